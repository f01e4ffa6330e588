using FastPath.Control.Offline;
using FastPath.Dataplane.Ports;
using FastPath.Testing;

namespace FastPath.Control.Tests.Offline;

public sealed class CaptureInspectorTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Every_packet_gets_one_line_and_the_count_is_returned()
    {
        string path = _dir.File("three.pcap");
        using (CaptureWriter writer = CaptureWriter.Create(path, new CaptureFormat(CaptureFileKind.Pcap, true)))
        {
            for (int i = 0; i < 3; i++)
            {
                writer.Write(new byte[60 + i], 1_700_000_000_000_000_001L + i);
            }
        }

        var output = new StringWriter();
        Assert.Equal(3, CaptureInspector.Run(path, json: false, output));
        string[] lines = output.ToString().TrimEnd().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal("0 1700000000.000000001 len=60 caplen=60", lines[0]);
        Assert.Equal("2 1700000000.000000003 len=62 caplen=62", lines[2]);
    }

    [Fact]
    public void Packets_before_a_bad_record_are_printed_and_the_error_names_the_offset()
    {
        string path = _dir.File("bad.pcap");
        using (CaptureWriter writer = CaptureWriter.Create(path, new CaptureFormat(CaptureFileKind.Pcap, false)))
        {
            writer.Write(new byte[60], 0);
        }

        File.AppendAllText(path, "junk");
        var output = new StringWriter();
        var error = Assert.Throws<CaptureFileException>(() => CaptureInspector.Run(path, json: true, output));
        Assert.Equal(24 + 16 + 60, error.Offset);
        Assert.Single(output.ToString().TrimEnd().Split('\n'));
    }
}
