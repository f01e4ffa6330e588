using System.Diagnostics;
using System.Text.Json;
using FastPath.Testing;

namespace FastPath.Cli.Tests.Daemon;

/// <summary>
/// A pcap output port writing into a FIFO whose reader goes away: the write fails with EPIPE. The port must count it
/// (<c>tx_errors</c> in stats and <c>/metrics</c>), stop writing, keep the worker forwarding, and the daemon must stop
/// cleanly on SIGTERM (it used to fail the worker, then free the generator's memory twice at shutdown: exit 134).
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class PcapOutputTests : IDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_fifo_output_whose_reader_leaves_is_counted_as_tx_errors_and_the_daemon_stops_cleanly()
    {
        string fifo = _dir.File("out.fifo");
        ProcessRunner.Run("mkfifo", fifo).EnsureSuccess();
        File.WriteAllText(_dir.File("maps.json"), """{ "mappings": [ { "tenant": 100, "user": "10.0.0.0", "secure": "11.0.0.0" } ] }""");
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, """
            {
              "workers": 1,
              "maps": "maps.json",
              "ports": {
                "u0": { "type": "generator", "mappings": 1, "flows": 1, "packets": 0 },
                "s0": { "type": "pcap", "output": "out.fifo" }
              },
              "pairs": [ { "user": "u0", "secure": "s0" } ]
            }
            """);

        // A real reader that takes 64 KiB of the capture and exits: the daemon's next write gets EPIPE.
        using Process reader = Process.Start(new ProcessStartInfo("sh", ["-c", "head -c 65536 \"$0\" > /dev/null", fifo]) { UseShellExecute = false })!;
        using var daemon = DaemonProcess.Start(config, "unix:" + _dir.File("control.sock"));
        Assert.True(reader.WaitForExit(s_wait), "head did not read its 64 KiB");

        JsonElement s0 = Port(daemon, "s0");
        DateTime end = DateTime.UtcNow + s_wait;
        while (s0.GetProperty("tx_errors").GetInt64() == 0)
        {
            Assert.True(DateTime.UtcNow < end, "no tx_errors counted on s0:\n" + daemon.Log);
            Thread.Sleep(100);
            s0 = Port(daemon, "s0");
        }

        // The worker survived the broken output: it keeps receiving, and what it hands s0 is counted, not written.
        long rx = Port(daemon, "u0").GetProperty("rx_packets").GetInt64();
        long errors = s0.GetProperty("tx_errors").GetInt64();
        end = DateTime.UtcNow + s_wait;
        while (Port(daemon, "u0").GetProperty("rx_packets").GetInt64() == rx || Port(daemon, "s0").GetProperty("tx_errors").GetInt64() == errors)
        {
            Assert.True(DateTime.UtcNow < end, "the worker stopped after the broken pipe:\n" + daemon.Log);
            Thread.Sleep(100);
        }

        int code = daemon.Stop(s_wait);
        Assert.True(code == 0, $"fastpath run exited {code}:\n{daemon.Log}");
        Assert.Contains("port s0: its output failed", daemon.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("double free", daemon.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("worker 0 failed", daemon.Log, StringComparison.Ordinal);
    }

    private static JsonElement Port(DaemonProcess daemon, string name)
    {
        using JsonDocument stats = JsonDocument.Parse(daemon.Cli("stats", "--json").EnsureSuccess().StandardOutput);
        foreach (JsonElement port in stats.RootElement.GetProperty("ports").EnumerateArray())
        {
            if (port.GetProperty("name").GetString() == name)
            {
                return port.Clone();
            }
        }

        throw new InvalidOperationException($"no port {name} in stats");
    }
}
