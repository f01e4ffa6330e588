using FastPath.Testing;

namespace FastPath.Cli.Tests.Daemon;

/// <summary>
/// A worker that dies stops the daemon at once with exit 1 and its cause named in the log, through its own
/// mechanism (not the statistics timer): the daemon's pcap output fills a 4 MiB tmpfs, the write fails with ENOSPC,
/// and shutdown with a failed write behind it is clean (no second exception, no abort).
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class DaemonWorkerFailureTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        ProcessRunner.Run("umount", _dir.File("small"));
        _dir.Dispose();
    }

    [Fact]
    public void A_failed_worker_stops_the_daemon_with_exit_1_naming_the_cause()
    {
        string small = _dir.File("small");
        Directory.CreateDirectory(small);
        ProcessRunner.Run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", small).EnsureSuccess();
        File.WriteAllText(_dir.File("maps.json"), """{ "mappings": [ { "tenant": 100, "user": "10.0.0.0", "secure": "11.0.0.0" } ] }""");
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, $$"""
            {
              "workers": 1, "maps": "maps.json", "control": "unix:{{_dir.File("control.sock")}}",
              "ports": {
                "u0": { "type": "generator", "mappings": 1, "flows": 1, "packets": 100000000 },
                "s0": { "type": "pcap", "output": "{{Path.Combine(small, "out.pcap")}}" }
              },
              "pairs": [ { "user": "u0", "secure": "s0" } ]
            }
            """);

        ProcessResult run = ProcessRunner.Run(FastpathProcess.Executable, ["run", "--config", config], timeout: TimeSpan.FromSeconds(90));
        string log = run.StandardOutput + run.StandardError;
        Assert.True(run.ExitCode == 1, $"exit {run.ExitCode}:\n{log}");
        Assert.Contains("fastpath: worker 0 failed: No space left on device", log, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", log, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("control.sock")), "the control socket was left behind");
    }
}
