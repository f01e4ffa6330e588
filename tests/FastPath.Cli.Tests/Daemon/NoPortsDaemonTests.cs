using System.Text.Json;
using FastPath.Testing;

namespace FastPath.Cli.Tests.Daemon;

/// <summary>
/// A configuration with no ports (<c>"ports": {}, "pairs": []</c>, what the Debian package ships) is a daemon without a
/// data path: <c>--check</c> accepts it, and <c>fastpath run</c> serves the control socket, the maps and the vTPM with no
/// worker thread, then stops cleanly on SIGTERM. Ports without pairs stay an error.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class NoPortsDaemonTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_daemon_without_ports_serves_maps_and_the_vtpm_and_stops_cleanly()
    {
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, """
            {
              "workers": 1,
              "ports": {},
              "pairs": [],
              "vtpm": { "mode": "single", "state": "vtpm" }
            }
            """);
        string control = "unix:" + _dir.File("control.sock");

        ProcessResult check = FastpathProcess.Run("run", "--config", config, "--check", "--control", control);
        Assert.True(check.ExitCode == 0, check.StandardError);
        Assert.Equal($"fastpath: {config}: ok: 1 worker(s), 0 port(s) (no data path), 0 pair(s), 0 mapping(s), {control.Replace("unix:", "control unix:", StringComparison.Ordinal)}", check.StandardOutput.Trim());

        using DaemonProcess daemon = DaemonProcess.Start(config, control);
        daemon.Cli("map", "add", "--tenant", "100", "--user", "198.18.1.5", "--secure", "198.19.1.5").EnsureSuccess();
        using (JsonDocument stats = JsonDocument.Parse(daemon.Cli("stats", "--json").EnsureSuccess().StandardOutput))
        {
            Assert.Equal(1, stats.RootElement.GetProperty("table").GetProperty("mappings").GetInt64());
            Assert.StartsWith("single unix:", stats.RootElement.GetProperty("vtpm").GetProperty("state").GetString(), StringComparison.Ordinal);
            Assert.Equal(0, stats.RootElement.GetProperty("ports").GetArrayLength());
        }

        daemon.Cli("stats").EnsureSuccess();
        ProcessResult capture = daemon.Cli("capture", "--port", "u0", "--count", "1", "-w", _dir.File("c.pcapng"));
        Assert.NotEqual(0, capture.ExitCode);
        Assert.Contains("u0", capture.StandardError, StringComparison.Ordinal);

        // The vTPM answers a real client on its default socket.
        var tcti = new Dictionary<string, string> { ["TPM2TOOLS_TCTI"] = $"swtpm:path={_dir.File("vtpm/vtpm.sock")}" };
        ProcessRunner.Run("tpm2_startup", ["-c"], TimeSpan.FromSeconds(60), null, tcti).EnsureSuccess();
        Assert.Matches("^[0-9a-f]{16}$", ProcessRunner.Run("tpm2_getrandom", ["8", "--hex"], TimeSpan.FromSeconds(60), null, tcti).EnsureSuccess().StandardOutput.Trim());

        int code = daemon.Stop(TimeSpan.FromSeconds(30));
        Assert.True(code == 0, $"fastpath run exited {code}:\n{daemon.Log}");
        Assert.Contains("running: no ports (no data path", daemon.Log, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("control.sock")), "the control socket was left behind");
    }

    [Fact]
    public void Ports_without_pairs_are_refused()
    {
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, """{ "ports": { "u0": { "type": "sink" } }, "pairs": [] }""");
        ProcessResult check = FastpathProcess.Run("run", "--config", config, "--check");
        Assert.Equal(2, check.ExitCode);
        Assert.Equal($"fastpath: {config}: pairs: empty, but there are ports: each pair joins a user port to a secure port", check.StandardError.Trim());
    }
}
