using System.Runtime.InteropServices;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Dataplane.Tests.Rewrite;

public sealed unsafe class VlanTagTests
{
    [Fact]
    public void The_moved_offsets_are_two_words_of_packet_meta_in_lane_order()
    {
        // VlanTag.Shift moves L3..PacketEnd as the lanes of bytes 0-7 and VlanId..TtlOffset as those of bytes 8-15.
        string[] lanes = ["L3Offset", "L4Offset", "PayloadOffset", "PacketEnd", "VlanId", "SourceOffset", "DestinationOffset", "TtlOffset"];
        for (int i = 0; i < lanes.Length; i++)
        {
            Assert.Equal(i * 2, (int)Marshal.OffsetOf<PacketMeta>(lanes[i]));
        }
    }

    [Fact]
    public void Lane_wise_shift_equals_the_field_by_field_twin_for_any_offsets()
    {
        var random = new Random(8021);
        byte[] raw = new byte[PacketMeta.Size];
        ushort[] edges = [0, 1, 3, 4, 5, 0x7FFC, 0x7FFF, 0x8000, 0x8003, 0xFFFB, 0xFFFC, 0xFFFF];
        for (int round = 0; round < 200_000; round++)
        {
            random.NextBytes(raw);
            PacketMeta meta = MemoryMarshal.Read<PacketMeta>(raw);
            if (round % 2 == 0)
            {
                // Lanes at the wrap points, where a carry or borrow would cross into the next lane.
                Span<ushort> words = MemoryMarshal.Cast<PacketMeta, ushort>(new Span<PacketMeta>(ref meta));
                for (int w = 0; w < 9; w++)
                {
                    words[w] = edges[random.Next(edges.Length)];
                }
            }

            int delta = round % 3 == 0 ? VlanTag.Size : -VlanTag.Size;
            ushort vlan = (ushort)random.Next(4096);
            PacketMeta lanes = meta;
            PacketMeta fields = meta;
            VlanTag.Shift(ref lanes, delta, vlan);
            VlanTag.ShiftScalar(ref fields, delta, vlan);
            Assert.Equal(Bytes(fields), Bytes(lanes));
        }
    }

    [Fact]
    public void Pop_without_the_mac_move_leaves_the_same_frame_behind_the_macs()
    {
        byte[] frame = new byte[80];
        new Random(1).NextBytes(frame);
        frame[12] = 0x81;
        frame[13] = 0x00;
        byte[] copy = [.. frame];
        var meta = new PacketMeta { L3Offset = 18, L4Offset = 38, PayloadOffset = 46, PacketEnd = 80, VlanId = 7, SourceOffset = 30, DestinationOffset = 34, TtlOffset = 26, L4ChecksumOffset = 44, Flags = PacketFlags.Vlan };
        PacketMeta metaCopy = meta;
        int length = 80;
        int lengthCopy = 80;
        fixed (byte* a = frame)
        fixed (byte* b = copy)
        {
            byte* moved = VlanTag.Pop(a, ref length, ref meta);
            byte* kept = VlanTag.Pop(b, ref lengthCopy, ref metaCopy, moveMacs: false);
            Assert.Equal(moved - a, kept - b);
            Assert.Equal(length, lengthCopy);
            Assert.Equal(Bytes(meta), Bytes(metaCopy));
            Assert.Equal(0, meta.VlanId);
            Assert.Equal(14, meta.L3Offset);
            Assert.Equal(40, meta.L4ChecksumOffset);
            Assert.Equal(new Span<byte>(moved + 12, length - 12).ToArray(), new Span<byte>(kept + 12, lengthCopy - 12).ToArray());

            // The moving pop carried the MACs along (the other frame's first 12 bytes were never written).
            Assert.Equal(new Span<byte>(b, 12).ToArray(), new Span<byte>(moved, 12).ToArray());
        }
    }

    private static byte[] Bytes(PacketMeta meta) => MemoryMarshal.AsBytes(new ReadOnlySpan<PacketMeta>(ref meta)).ToArray();
}
