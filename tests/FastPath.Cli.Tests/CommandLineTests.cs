using FastPath.Testing;

namespace FastPath.Cli.Tests;

public sealed class CommandLineTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Help_lists_every_command_of_the_architecture()
    {
        ProcessResult result = FastpathProcess.Run("--help");
        Assert.Equal(0, result.ExitCode);
        foreach (string command in new[] { "translate", "inspect", "bench", "gen", "run", "map", "stats", "vtpm", "guest" })
        {
            Assert.Matches($@"(?m)^\s+{command}\b", result.StandardOutput);
        }

        Assert.Contains("serve", FastpathProcess.Run("vtpm", "--help").StandardOutput);
        Assert.Contains("probe-header", FastpathProcess.Run("guest", "--help").StandardOutput);
        string map = FastpathProcess.Run("map", "--help").StandardOutput;
        foreach (string verb in new[] { "add", "del", "list", "import" })
        {
            Assert.Matches($@"(?m)^\s+{verb}\b", map);
        }
    }

    [Fact]
    public void Version_prints_the_product_version()
    {
        ProcessResult result = FastpathProcess.Run("--version");
        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", result.StandardOutput);
    }

    [Fact]
    public void An_unknown_command_exits_2_with_one_line()
    {
        ProcessResult result = FastpathProcess.Run("frobnicate");
        Assert.Equal(2, result.ExitCode);
        Assert.Equal("fastpath: Unrecognized command or argument 'frobnicate'. (see 'fastpath --help')", result.StandardError.TrimEnd());
        Assert.Empty(result.StandardOutput);
    }

    [Fact]
    public void A_missing_required_option_exits_2()
    {
        ProcessResult result = FastpathProcess.Run("vtpm", "serve");
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.StandardError.TrimEnd().Split('\n'));
    }

    [Fact]
    public void A_bad_pcap_exits_2_naming_the_file_and_offset()
    {
        byte[] header = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0];
        byte[] record = [1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 60, 0, 0, 0];
        string path = _dir.File("bad.pcap");
        File.WriteAllBytes(path, [.. header, .. record]);

        ProcessResult result = FastpathProcess.Run("inspect", path);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"fastpath: {path}: offset 32: absurd caplen 2147483647 (limit 262144)", result.StandardError.TrimEnd());
    }

    [Fact]
    public void A_file_that_is_not_a_capture_exits_2()
    {
        string path = _dir.File("text.pcap");
        File.WriteAllText(path, "hello, world");
        ProcessResult result = FastpathProcess.Run("inspect", path);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("offset 0: not a pcap or pcapng file", result.StandardError);
        Assert.DoesNotContain("   at ", result.StandardError);
    }

    [Fact]
    public void A_missing_input_file_exits_2()
    {
        ProcessResult result = FastpathProcess.Run("inspect", _dir.File("absent.pcap"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("absent.pcap", result.StandardError);
    }

    [Fact]
    public void Inspect_prints_one_line_per_packet_of_a_scapy_capture()
    {
        string path = _dir.File("two.pcap");
        Scapy.Run($"wrpcap('{path}', [Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')/IP(src='198.18.0.1', dst='198.18.0.2')/UDP()] * 2)");
        ProcessResult result = FastpathProcess.Run("inspect", path, "--json");
        Assert.Equal(0, result.ExitCode);
        string[] lines = result.StandardOutput.TrimEnd().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("{\"index\":0,", lines[0]);
        Assert.StartsWith("{\"index\":1,", lines[1]);
        Assert.Contains("\"family\":\"ipv4\",\"src\":\"198.18.0.1\",\"dst\":\"198.18.0.2\",\"proto\":17,\"sport\":53,\"dport\":53,\"fragment\":\"none\",\"verdict\":\"ok\"", lines[0]);
    }
}
