using System.Text.Json;
using FastPath.Control.Config;
using FastPath.Control.ControlSocket;
using FastPath.Testing;

namespace FastPath.Cli.Tests.Daemon;

/// <summary>
/// <c>fastpath capture</c> against a running daemon: config (generator on u0 sending two flows, only one of them
/// mapped, sink on s0) → capture over the control socket → tshark reads the pcapng back: frames, interface names,
/// directions, and the drop reason of every dropped frame as its comment; a full ring counts capture drops while
/// forwarding goes on; a bad filter is refused with the reason.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class CaptureCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly DaemonProcess _daemon;

    public CaptureCommandTests()
    {
        // Flow f comes from 10.0.0.(f mod 2), tenant 100; only 10.0.0.0 is mapped, so every other frame is a no-mapping drop.
        File.WriteAllText(_dir.File("maps.json"), """{ "mappings": [ { "tenant": 100, "user": "10.0.0.0", "secure": "11.0.0.0" } ] }""");
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, """
            {
              "workers": 1, "maps": "maps.json",
              "ports": { "u0": { "type": "generator", "mappings": 2, "flows": 2, "packets": 0 }, "s0": { "type": "sink" } },
              "pairs": [ { "user": "u0", "secure": "s0" } ]
            }
            """);
        _daemon = DaemonProcess.Start(config, "unix:" + _dir.File("control.sock"));
    }

    public void Dispose()
    {
        _daemon.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public void Received_frames_are_written_as_pcapng_that_tshark_reads_with_each_drop_reason()
    {
        string output = _dir.File("rx.pcapng");
        ProcessResult capture = _daemon.Cli("capture", "--port", "u0", "--direction", "rx", "--count", "20", "-w", output);
        Assert.True(capture.ExitCode == 0, capture.StandardError);
        Assert.Contains("fastpath: capture: 20 frame(s)", capture.StandardError, StringComparison.Ordinal);

        string[][] rows = Tshark(output);
        Assert.Equal(20, rows.Length);
        foreach (string[] row in rows)
        {
            Assert.Equal("u0 rx", row[0]);
            Assert.Equal("100", row[1]);
            Assert.Equal(row[2] == "10.0.0.1" ? "drop: no-mapping" : string.Empty, row[3]);
            Assert.Equal("0x00000001", row[4]); // epb_flags direction: inbound
        }

        Assert.Contains(rows, r => r[2] == "10.0.0.0");
        Assert.Contains(rows, r => r[2] == "10.0.0.1");
    }

    [Fact]
    public void Drops_with_a_filter_go_through_a_pipe_to_tshark()
    {
        // -w - writes pcapng to stdout: the real pipe into tshark, as an operator would type it.
        string fastpath = FastpathProcess.Executable;
        ProcessResult result = ProcessRunner.Run("bash", ["-o", "pipefail", "-c",
            $"'{fastpath}' capture --control '{_daemon.Control}' --port u0 --drops --filter 'tenant 100 and udp and not port 7' --count 10 -w - " +
            "| tshark -r - -T fields -e frame.interface_name -e ip.src -e frame.comment"], TimeSpan.FromMinutes(2));

        Assert.True(result.ExitCode == 0, result.StandardError);
        string[] lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, lines.Length);
        Assert.All(lines, line => Assert.Equal("u0 rx\t10.0.0.1\tdrop: no-mapping", line));
    }

    [Fact]
    public void A_pipe_whose_reader_leaves_ends_the_capture_cleanly()
    {
        // `| head -c`: the reader takes 64 KiB and leaves; the capture ends as tcpdump's would, saying why, exit 0.
        string fastpath = FastpathProcess.Executable;
        ProcessResult result = ProcessRunner.Run("bash", ["-c",
            $"'{fastpath}' capture --control '{_daemon.Control}' --port u0 -w - 2>'{_dir.File("err.txt")}' | head -c 65536 | wc -c; echo \"${{PIPESTATUS[0]}}\""], TimeSpan.FromMinutes(2));

        string[] lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["65536", "0"], lines);
        Assert.Matches(@"^fastpath: capture: \d+ frame\(s\), \d+ capture drop\(s\); the output was closed$", File.ReadAllText(_dir.File("err.txt")).Trim());
    }

    [Fact]
    public async Task A_daemon_that_stops_ends_the_capture_with_a_readable_file_and_says_why()
    {
        string output = _dir.File("until-stop.pcapng");
        var start = new System.Diagnostics.ProcessStartInfo(FastpathProcess.Executable) { RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { "capture", "--control", _daemon.Control, "--port", "u0", "-w", output })
        {
            start.ArgumentList.Add(argument);
        }

        using System.Diagnostics.Process capture = System.Diagnostics.Process.Start(start)!;
        Task<string> stderr = capture.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(output) || new FileInfo(output).Length < 4096)
        {
            Assert.True(DateTime.UtcNow < deadline, "the capture wrote nothing");
            Thread.Sleep(50);
        }

        Assert.Equal(0, _daemon.Stop(TimeSpan.FromSeconds(30)));
        Assert.True(capture.WaitForExit(TimeSpan.FromSeconds(30)), "the capture did not end when the daemon stopped");
        Assert.Equal(1, capture.ExitCode);
        Assert.Matches(@"^fastpath: capture: \d+ frame\(s\), \d+ capture drop\(s\); the daemon closed the connection \(stopped\?\)$", (await stderr).Trim());
        Assert.NotEmpty(Tshark(output)); // whole pcapng blocks up to the end
    }

    [Fact]
    public void Transmitted_frames_are_captured_as_translated_on_their_own_interface()
    {
        string output = _dir.File("tx.pcapng");
        ProcessResult capture = _daemon.Cli("capture", "--port", "s0", "--count", "5", "--snaplen", "64", "-w", output);
        Assert.True(capture.ExitCode == 0, capture.StandardError);

        string[][] rows = Tshark(output);
        Assert.Equal(5, rows.Length);
        Assert.All(rows, row => Assert.Equal(["s0 tx", string.Empty, "11.0.0.0", string.Empty, "0x00000002"], row));

        // A second capture may not overwrite the first file.
        ProcessResult again = _daemon.Cli("capture", "--port", "s0", "--count", "1", "-w", output);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Equal(5, Tshark(output).Length);
    }

    [Fact]
    public void A_full_ring_counts_capture_drops_while_forwarding_goes_on()
    {
        Assert.True(ControlEndpoint.TryParse(_daemon.Control, allowRemote: false, out ControlEndpoint endpoint, out string error), error);
        using ControlClient client = ControlClient.Connect(endpoint);
        using JsonDocument started = client.Call("capture.start", json => json.WriteString("port", "u0"));
        int id = started.RootElement.GetProperty("result").GetProperty("id").GetInt32();
        long before = Forwarded();
        for (int i = 0; i < 600 && Forwarded() < before + 20_000; i++)
        {
            // Nobody drains (a read of 0 frames only tells the daemon the client is alive): the ring (4096 frames)
            // fills long before 20000 packets went through, twice as many received.
            using JsonDocument alive = client.Call("capture.read", json =>
            {
                json.WriteNumber("id", id);
                json.WriteNumber("max", 0);
            });
            Thread.Sleep(100);
        }

        Assert.True(Forwarded() >= before + 20_000, "forwarding stalled while the capture ring was full");
        using JsonDocument read = client.Call("capture.read", json =>
        {
            json.WriteNumber("id", id);
            json.WriteNumber("max", 65536);
        });
        JsonElement result = read.RootElement.GetProperty("result");
        Assert.Equal(4096, result.GetProperty("frames").GetInt32());
        Assert.True(result.GetProperty("capture_drops").GetInt64() > 0);
        using JsonDocument stopped = client.Call("capture.stop", json => json.WriteNumber("id", id));
        Assert.True(stopped.RootElement.GetProperty("result").GetProperty("capture_drops").GetInt64() >= result.GetProperty("capture_drops").GetInt64());
    }

    [Theory]
    [InlineData("tenant 100 and fish", "fastpath: filter: unknown term 'fish' (expected tenant, host, net, udp, tcp, icmp, port, and, or, not, parentheses)")]
    [InlineData("port 70000", "fastpath: filter: 'port 70000': expected a number from 0 to 65535")]
    [InlineData("(udp or tcp", "fastpath: filter: expected ')' at the end")]
    [InlineData("host 10.0.0.300", "fastpath: filter: '10.0.0.300' is not an IPv4 or IPv6 address")]
    public void A_bad_filter_exits_2_with_what_is_wrong(string filter, string message)
    {
        ProcessResult capture = _daemon.Cli("capture", "--port", "u0", "--filter", filter, "-w", _dir.File("never.pcapng"));
        Assert.Equal(2, capture.ExitCode);
        Assert.Equal(message, capture.StandardError.Trim());
        Assert.False(File.Exists(_dir.File("never.pcapng")));
    }

    private long Forwarded() =>
        JsonDocument.Parse(_daemon.Cli("stats", "--json").EnsureSuccess().StandardOutput).RootElement.GetProperty("workers")[0].GetProperty("tx_packets").GetInt64();

    private static string[][] Tshark(string file)
    {
        ProcessResult result = ProcessRunner.Run("tshark", "-r", file, "-T", "fields", "-e", "frame.interface_name", "-e", "vlan.id", "-e", "ip.src", "-e", "frame.comment", "-e", "frame.packet_flags_direction").EnsureSuccess();
        return [.. result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('\t'))];
    }
}
