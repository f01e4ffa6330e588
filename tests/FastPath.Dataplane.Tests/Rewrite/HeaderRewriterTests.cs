using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Dataplane.Tests.Rewrite;

public sealed unsafe class HeaderRewriterTests
{
    [Fact]
    public void Addresses_passed_by_value_rewrite_exactly_like_addresses_passed_by_pointer()
    {
        // The worker passes a lookup result's address words in registers; offline callers pass bytes in memory.
        var random = new Random(1624);
        byte[] a = new byte[96];
        byte[] b = new byte[96];
        byte* source = stackalloc byte[16];
        byte* destination = stackalloc byte[16];
        byte[] protocols = [6, 17, 1, 58];
        for (int round = 0; round < 100_000; round++)
        {
            random.NextBytes(a);
            if (round % 5 == 0)
            {
                a[58] = a[59] = 0; // a UDP checksum of 0 ("none" in IPv4) where the checksum offset below lands
            }

            a.CopyTo(b, 0);
            new Random(round).NextBytes(new Span<byte>(source, 16));
            new Random(~round).NextBytes(new Span<byte>(destination, 16));
            bool v6 = random.Next(2) == 0;
            bool replaceSource = random.Next(3) != 0;
            bool replaceDestination = !replaceSource || random.Next(2) == 0;
            var meta = new PacketMeta
            {
                L3Offset = 14,
                IpVersion = (byte)(v6 ? 6 : 4),
                Protocol = protocols[random.Next(protocols.Length)],
                TtlOffset = (ushort)(v6 ? 21 : 22),
                SourceOffset = (ushort)(v6 ? 22 : 26),
                DestinationOffset = (ushort)(v6 ? 38 : 30),
                L4ChecksumOffset = (ushort)(random.Next(4) == 0 ? 0 : 58),
            };

            fixed (byte* pa = a)
            fixed (byte* pb = b)
            {
                HeaderRewriter.Apply(pa, meta, replaceSource ? source : null, replaceDestination ? destination : null);
                HeaderRewriter.Apply(pb, meta, replaceSource, *(ulong*)source, v6 ? *(ulong*)(source + 8) : 0,
                    replaceDestination, *(ulong*)destination, v6 ? *(ulong*)(destination + 8) : 0);
            }

            Assert.Equal(a, b);
        }
    }
}
