using FastPath.Dataplane.Ports;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Ports;

public sealed class CaptureReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(false, 0xa1b2c3d4u, false)]
    [InlineData(false, 0xa1b23c4du, true)]
    [InlineData(true, 0xa1b2c3d4u, false)]
    [InlineData(true, 0xa1b23c4du, true)]
    public void Classic_pcap_is_read_in_both_byte_orders_and_resolutions(bool bigEndian, uint magic, bool nanoseconds)
    {
        byte[] a = CaptureBytes.Frame(60, 1);
        byte[] b = CaptureBytes.Frame(1514, 2);
        string path = new CaptureBytes(bigEndian).PcapHeader(magic)
            .PcapRecord(1_700_000_000, 123_456, a)
            .PcapRecord(1_700_000_001, 999_999, b, originalLength: 2000)
            .WriteTo(_dir.File("a.pcap"));

        using CaptureReader reader = CaptureReader.Open(path);
        Assert.Equal(new CaptureFormat(CaptureFileKind.Pcap, nanoseconds, 65535), reader.Format);
        long scale = nanoseconds ? 1 : 1000;

        Assert.True(reader.TryReadNext(out CapturedPacket first));
        Assert.Equal(a, first.Data.ToArray());
        Assert.Equal(1_700_000_000L * 1_000_000_000 + 123_456 * scale, first.TimestampNanoseconds);
        Assert.Equal(60, first.OriginalLength);
        Assert.Equal(24, first.FileOffset);

        Assert.True(reader.TryReadNext(out CapturedPacket second));
        Assert.Equal(b, second.Data.ToArray());
        Assert.Equal(2000, second.OriginalLength);
        Assert.Equal(1_700_000_001L * 1_000_000_000 + 999_999 * scale, second.TimestampNanoseconds);

        Assert.False(reader.TryReadNext(out _));
        Assert.Equal(2, reader.PacketsRead);
    }

    [Fact]
    public void A_pcap_file_with_only_a_header_has_no_packets()
    {
        string path = new CaptureBytes().PcapHeader().WriteTo(_dir.File("empty.pcap"));
        using CaptureReader reader = CaptureReader.Open(path);
        Assert.False(reader.TryReadNext(out _));
    }

    [Fact]
    public void Wrong_magic_names_offset_zero_and_the_magic()
    {
        string path = _dir.File("x.pcap");
        File.WriteAllText(path, "this is not a capture file");
        var error = Assert.Throws<CaptureFileException>(() => CaptureReader.Open(path));
        Assert.Equal(0, error.Offset);
        Assert.Contains("not a pcap or pcapng file", error.Message);
        Assert.Contains("offset 0", error.Message);
    }

    [Fact]
    public void An_empty_file_is_refused()
    {
        string path = _dir.File("empty");
        File.WriteAllBytes(path, []);
        var error = Assert.Throws<CaptureFileException>(() => CaptureReader.Open(path));
        Assert.Equal("empty file", error.Reason);
    }

    [Fact]
    public void A_truncated_file_header_is_refused()
    {
        byte[] header = new CaptureBytes().PcapHeader().ToArray();
        string path = _dir.File("short.pcap");
        File.WriteAllBytes(path, header[..10]);
        var error = Assert.Throws<CaptureFileException>(() => CaptureReader.Open(path));
        Assert.Contains("truncated file header", error.Reason);
    }

    [Fact]
    public void A_link_type_other_than_Ethernet_is_refused()
    {
        string path = new CaptureBytes().PcapHeader(linkType: 101).WriteTo(_dir.File("raw.pcap"));
        var error = Assert.Throws<CaptureFileException>(() => CaptureReader.Open(path));
        Assert.Equal(20, error.Offset);
        Assert.Contains("link type 101", error.Reason);
    }

    [Fact]
    public void A_truncated_record_header_names_the_record_offset()
    {
        byte[] bytes = new CaptureBytes().PcapHeader().PcapRecord(1, 0, CaptureBytes.Frame(60, 0)).Raw(1, 2, 3, 4, 5).ToArray();
        string path = _dir.File("t.pcap");
        File.WriteAllBytes(path, bytes);
        using CaptureReader reader = CaptureReader.Open(path);
        Assert.True(reader.TryReadNext(out _));
        var error = Assert.Throws<CaptureFileException>(() => reader.TryReadNext(out _));
        Assert.Equal(24 + 16 + 60, error.Offset);
        Assert.Contains("truncated record header", error.Reason);
    }

    [Fact]
    public void An_absurd_caplen_is_refused_before_anything_is_read()
    {
        string path = new CaptureBytes().PcapHeader().PcapRecord(1, 0, CaptureBytes.Frame(60, 0), capLength: 0x7fff_0000).WriteTo(_dir.File("big.pcap"));
        using CaptureReader reader = CaptureReader.Open(path);
        var error = Assert.Throws<CaptureFileException>(() => reader.TryReadNext(out _));
        Assert.Equal(24 + 8, error.Offset);
        Assert.Contains("absurd caplen", error.Reason);
    }

    [Fact]
    public void Truncated_packet_data_is_refused()
    {
        byte[] bytes = new CaptureBytes().PcapHeader().PcapRecord(1, 0, CaptureBytes.Frame(100, 0)).ToArray();
        string path = _dir.File("cut.pcap");
        File.WriteAllBytes(path, bytes[..^10]);
        using CaptureReader reader = CaptureReader.Open(path);
        var error = Assert.Throws<CaptureFileException>(() => reader.TryReadNext(out _));
        Assert.Equal(24, error.Offset);
        Assert.Contains("truncated packet data", error.Reason);
    }

    [Fact]
    public void Pcapng_reads_enhanced_and_simple_packets_and_skips_unknown_blocks()
    {
        byte[] a = CaptureBytes.Frame(61, 3);
        byte[] b = CaptureBytes.Frame(64, 4);
        string path = new CaptureBytes()
            .SectionHeader()
            .Block(0x0BAD, x => x.U32(42).U32(43)) // Unknown block type: skipped.
            .Interface(tsResolution: 9)
            .EnhancedPacket(0, 1_700_000_000_123_456_789UL, a, originalLength: 100)
            .Block(4, x => x.U16(0).U16(0)) // Name resolution block: skipped.
            .SimplePacket(b)
            .WriteTo(_dir.File("a.pcapng"));

        using CaptureReader reader = CaptureReader.Open(path);
        Assert.Equal(new CaptureFormat(CaptureFileKind.PcapNg, true), reader.Format);
        Assert.True(reader.TryReadNext(out CapturedPacket first));
        Assert.Equal(a, first.Data.ToArray());
        Assert.Equal(1_700_000_000_123_456_789L, first.TimestampNanoseconds);
        Assert.Equal(100, first.OriginalLength);
        Assert.True(reader.TryReadNext(out CapturedPacket second));
        Assert.Equal(b, second.Data.ToArray());
        Assert.False(reader.TryReadNext(out _));
    }

    [Fact]
    public void Pcapng_timestamps_honour_binary_resolution_and_offset()
    {
        byte[] a = CaptureBytes.Frame(60, 5);
        // 2^-10 units: 1536 units = 1.5 s; plus if_tsoffset of 100 s.
        string path = new CaptureBytes().SectionHeader().Interface(tsResolution: 0x8A, tsOffset: 100)
            .EnhancedPacket(0, 1536, a).WriteTo(_dir.File("bin.pcapng"));
        using CaptureReader reader = CaptureReader.Open(path);
        Assert.True(reader.TryReadNext(out CapturedPacket packet));
        Assert.Equal(101_500_000_000L, packet.TimestampNanoseconds);
    }

    [Fact]
    public void Pcapng_default_resolution_is_microseconds()
    {
        string path = new CaptureBytes().SectionHeader().Interface()
            .EnhancedPacket(0, 1_000_001, CaptureBytes.Frame(60, 5)).WriteTo(_dir.File("us.pcapng"));
        using CaptureReader reader = CaptureReader.Open(path);
        Assert.False(reader.Format.Nanoseconds);
        Assert.True(reader.TryReadNext(out CapturedPacket packet));
        Assert.Equal(1_000_001_000L, packet.TimestampNanoseconds);
    }

    [Fact]
    public void Big_endian_pcapng_sections_are_read()
    {
        byte[] a = CaptureBytes.Frame(70, 6);
        string path = new CaptureBytes(bigEndian: true).SectionHeader().Interface(tsResolution: 6)
            .EnhancedPacket(0, 5_000_000, a).WriteTo(_dir.File("be.pcapng"));
        using CaptureReader reader = CaptureReader.Open(path);
        Assert.True(reader.TryReadNext(out CapturedPacket packet));
        Assert.Equal(a, packet.Data.ToArray());
        Assert.Equal(5_000_000_000L, packet.TimestampNanoseconds);
    }

    [Fact]
    public void A_new_section_forgets_the_previous_sections_interfaces()
    {
        var bytes = new CaptureBytes().SectionHeader().Interface().Interface()
            .EnhancedPacket(1, 1, CaptureBytes.Frame(60, 1))
            .SectionHeader().Interface()
            .EnhancedPacket(1, 1, CaptureBytes.Frame(60, 2));
        string path = bytes.WriteTo(_dir.File("sections.pcapng"));
        using CaptureReader reader = CaptureReader.Open(path);
        Assert.True(reader.TryReadNext(out _));
        var error = Assert.Throws<CaptureFileException>(() => reader.TryReadNext(out _));
        Assert.Contains("names interface 1 but the section declares 1", error.Reason);
    }

    [Fact]
    public void A_pcapng_block_whose_trailer_disagrees_is_refused_at_the_trailer()
    {
        var bytes = new CaptureBytes().SectionHeader().Interface();
        int block = bytes.Length;
        bytes.Block(6, b => b.U32(0).U32(0).U32(0).U32(4).U32(4).Raw(1, 2, 3, 4), trailerDelta: 4);
        string path = bytes.WriteTo(_dir.File("trailer.pcapng"));
        using CaptureReader reader = CaptureReader.Open(path);
        var error = Assert.Throws<CaptureFileException>(() => reader.TryReadNext(out _));
        Assert.Equal(block + 36 - 4, error.Offset);
        Assert.Contains("trailer", error.Reason);
    }

    [Fact]
    public void A_pcapng_caplen_past_its_block_is_refused()
    {
        var bytes = new CaptureBytes().SectionHeader().Interface();
        int block = bytes.Length;
        bytes.EnhancedPacket(0, 0, CaptureBytes.Frame(8, 1), capLength: 400);
        string path = bytes.WriteTo(_dir.File("caplen.pcapng"));
        using CaptureReader reader = CaptureReader.Open(path);
        var error = Assert.Throws<CaptureFileException>(() => reader.TryReadNext(out _));
        Assert.Equal(block, error.Offset);
        Assert.Contains("runs past its block", error.Reason);
    }

    [Fact]
    public void A_pcapng_block_longer_than_the_file_is_refused()
    {
        byte[] bytes = new CaptureBytes().SectionHeader().Interface().EnhancedPacket(0, 0, CaptureBytes.Frame(60, 1)).ToArray();
        string path = _dir.File("cut.pcapng");
        File.WriteAllBytes(path, bytes[..^8]);
        using CaptureReader reader = CaptureReader.Open(path);
        var error = Assert.Throws<CaptureFileException>(() => reader.TryReadNext(out _));
        Assert.Contains("truncated block", error.Reason);
    }

    [Fact]
    public void A_packet_on_a_non_Ethernet_interface_is_refused()
    {
        string path = new CaptureBytes().SectionHeader().Interface(linkType: 113)
            .EnhancedPacket(0, 0, CaptureBytes.Frame(60, 1)).WriteTo(_dir.File("sll.pcapng"));
        using CaptureReader reader = CaptureReader.Open(path);
        var error = Assert.Throws<CaptureFileException>(() => reader.TryReadNext(out _));
        Assert.Contains("link type 113", error.Reason);
    }

    [Fact]
    public void A_pcapng_file_with_a_bad_byte_order_magic_is_refused()
    {
        byte[] bytes = new CaptureBytes().SectionHeader().ToArray();
        bytes[8] = 0x99;
        string path = _dir.File("bom.pcapng");
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<CaptureFileException>(() => CaptureReader.Open(path));
        Assert.Equal(8, error.Offset);
    }

    [Fact]
    public void Reading_packets_allocates_nothing_per_packet()
    {
        var bytes = new CaptureBytes().PcapHeader();
        for (int i = 0; i < 10_000; i++)
        {
            bytes.PcapRecord((uint)i, 0, CaptureBytes.Frame(64 + i % 100, (byte)i));
        }

        string pcap = bytes.WriteTo(_dir.File("many.pcap"));
        var ng = new CaptureBytes().SectionHeader().Interface();
        for (int i = 0; i < 10_000; i++)
        {
            ng.EnhancedPacket(0, (ulong)i, CaptureBytes.Frame(64 + i % 100, (byte)i));
        }

        string pcapng = ng.WriteTo(_dir.File("many.pcapng"));
        foreach (string path in new[] { pcap, pcapng })
        {
            // Tiered JIT (call counting, OSR, tier-1 install) may allocate on this thread during the first passes;
            // the steady state is what must allocate nothing, so passes repeat until one is clean (at most five).
            long allocated = -1;
            for (int pass = 0; pass < 5 && allocated != 0; pass++)
            {
                using CaptureReader reader = CaptureReader.Open(path);
                Assert.True(reader.TryReadNext(out _));
                long before = GC.GetAllocatedBytesForCurrentThread();
                long sum = 0;
                while (reader.TryReadNext(out CapturedPacket packet))
                {
                    sum += packet.Data[0];
                }

                allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.Equal(10_000, reader.PacketsRead);
                Assert.True(sum > 0);
            }

            Assert.Equal(0, allocated);
        }
    }
}
