using System.Buffers.Binary;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Dataplane.Tests.Rewrite;

public sealed unsafe class IncrementalChecksumTests
{
    [Fact]
    public void Compute_matches_the_rfc1071_worked_example()
    {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2, so the checksum is ~ddf2 = 220d.
        byte[] data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        fixed (byte* p = data)
        {
            ushort native = IncrementalChecksum.Compute(p, data.Length);
            Assert.Equal(0x220d, BigEndian(native));
        }
    }

    [Fact]
    public void Compute_pads_an_odd_last_byte_as_the_high_order_byte()
    {
        byte[] data = [0x12, 0x34, 0x56];
        fixed (byte* p = data)
        {
            Assert.Equal(unchecked((ushort)~(0x1234 + 0x5600)), BigEndian(IncrementalChecksum.Compute(p, data.Length)));
        }
    }

    [Fact]
    public void Updating_addresses_incrementally_equals_recomputing_over_random_headers()
    {
        var random = new Random(1624);
        byte[] header = new byte[40];
        byte* replacement = stackalloc byte[16];
        for (int round = 0; round < 200_000; round++)
        {
            random.NextBytes(header);
            int addressLength = random.Next(2) == 0 ? 4 : 16;
            fixed (byte* p = header)
            {
                StoreChecksum(p, header.Length, 0);
                StoreChecksum(p, header.Length, IncrementalChecksum.Compute(p, header.Length));
                new Random(round).NextBytes(new Span<byte>(replacement, 16));
                byte* field = p + 4 + random.Next(0, 20 - (addressLength == 16 ? 4 : 0)) / 4 * 4;
                ulong delta = IncrementalChecksum.Delta(field, replacement, addressLength);
                Buffer.MemoryCopy(replacement, field, addressLength, addressLength);

                ushort updated = IncrementalChecksum.Apply(LoadChecksum(p), delta);
                StoreChecksum(p, header.Length, 0);
                Assert.Equal(IncrementalChecksum.Compute(p, header.Length), updated);
            }
        }
    }

    [Fact]
    public void A_header_whose_sum_is_all_ones_gets_checksum_zero_both_ways()
    {
        // Words summing to 0xFFFF give a checksum field of 0x0000; RFC 1141's equation would produce 0xFFFF here.
        byte[] header = new byte[8];
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2), 0x1234);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), 0xEDCB);
        fixed (byte* p = header)
        {
            Assert.Equal(0, IncrementalChecksum.Compute(p, header.Length));

            // Start from a different address word and move to the one that makes the sum 0xFFFF.
            BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), 0x0001);
            ushort before = IncrementalChecksum.Compute(p, header.Length);
            byte* replacement = stackalloc byte[4];
            replacement[0] = 0x12; replacement[1] = 0x34; replacement[2] = 0xED; replacement[3] = 0xCB;
            ulong delta = IncrementalChecksum.Delta(p + 2, replacement, 4);
            Assert.Equal(0, IncrementalChecksum.Apply(before, delta));
        }
    }

    private static ushort BigEndian(ushort native) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(native) : native;

    // The checksum field lives in the last two bytes of these synthetic headers.
    private static ushort LoadChecksum(byte* p) => *(ushort*)(p + 38);

    private static void StoreChecksum(byte* p, int length, ushort value) => *(ushort*)(p + length - 2) = value;
}
