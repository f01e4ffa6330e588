using FastPath.Dataplane.Ports;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Ports;

public sealed class CaptureWriterTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(CaptureFileKind.Pcap, false, "pcap")]
    [InlineData(CaptureFileKind.Pcap, true, "nsecpcap")]
    [InlineData(CaptureFileKind.PcapNg, false, "pcapng")]
    [InlineData(CaptureFileKind.PcapNg, true, "pcapng")]
    public void Written_files_are_read_back_by_tshark_with_the_same_bytes_and_times(CaptureFileKind kind, bool nanoseconds, string tsharkType)
    {
        string path = _dir.File("out");
        var frames = Enumerable.Range(0, 5).Select(i => CaptureBytes.Frame(60 + i, (byte)i)).ToList();
        using (CaptureWriter writer = CaptureWriter.Create(path, new CaptureFormat(kind, nanoseconds)))
        {
            for (int i = 0; i < frames.Count; i++)
            {
                writer.Write(frames[i], 1_700_000_000_000_000_000L + i * 1_001_001L, frames[i].Length + i);
            }

            Assert.Equal(5, writer.PacketsWritten);
        }

        Assert.Equal(tsharkType, Tshark.FileType(path));
        var rows = Tshark.Fields(path, ["frame.time_epoch", "frame.len", "frame.cap_len"]);
        for (int i = 0; i < frames.Count; i++)
        {
            long ns = 1_700_000_000_000_000_000L + i * 1_001_001L;
            long fraction = ns % 1_000_000_000L;
            string expectedTime = nanoseconds ? $"1700000000.{fraction:D9}" : $"1700000000.{fraction / 1000:D6}000";
            Assert.Equal(expectedTime, rows[i][0]);
            Assert.Equal((frames[i].Length + i).ToString(System.Globalization.CultureInfo.InvariantCulture), rows[i][1]);
            Assert.Equal(frames[i].Length.ToString(System.Globalization.CultureInfo.InvariantCulture), rows[i][2]);
        }

        using CaptureReader reader = CaptureReader.Open(path);
        for (int i = 0; i < frames.Count; i++)
        {
            Assert.True(reader.TryReadNext(out CapturedPacket packet));
            Assert.Equal(frames[i], packet.Data.ToArray());
        }
    }

    [Fact]
    public void Writing_packets_allocates_nothing_per_packet()
    {
        byte[] frame = CaptureBytes.Frame(64, 1);
        foreach (CaptureFileKind kind in new[] { CaptureFileKind.Pcap, CaptureFileKind.PcapNg })
        {
            using CaptureWriter writer = CaptureWriter.Create(_dir.File("alloc-" + kind), new CaptureFormat(kind, true));
            writer.Write(frame, 1);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 50_000; i++)
            {
                writer.Write(frame, i);
            }

            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    [Fact]
    public void An_oversized_frame_is_refused()
    {
        using CaptureWriter writer = CaptureWriter.Create(_dir.File("big"), new CaptureFormat(CaptureFileKind.Pcap, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => writer.Write(new byte[CaptureFormat.MaxSnapLength + 1], 0));
    }
}
