using System.Diagnostics;
using System.Globalization;
using FastPath.Testing;

namespace FastPath.Cli.Tests.Daemon;

/// <summary>SIGHUP at the very start of <c>fastpath run</c>: its default action ends the process, so the handler
/// must be in place before the daemon does anything (reads its config, opens ports, listens).</summary>
[Collection(DaemonCollection.Name)]
public sealed class DaemonSignalTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_sighup_handler_is_installed_before_the_daemon_starts_and_an_early_sighup_storm_is_survived()
    {
        File.WriteAllText(_dir.File("maps.json"), """{ "mappings": [ { "tenant": 100, "user": "10.0.0.1", "secure": "198.18.0.1" } ] }""");
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, """
            {
              "workers": 1, "maps": "maps.json",
              "ports": { "g": { "type": "generator", "packets": 0 }, "s": { "type": "sink" } },
              "pairs": [ { "user": "g", "secure": "s" } ]
            }
            """);
        string socket = _dir.File("control.sock");
        var start = new ProcessStartInfo(FastpathProcess.Executable) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in (string[])["run", "--config", config, "--control", "unix:" + socket])
        {
            start.ArgumentList.Add(argument);
        }

        using Process daemon = Process.Start(start)!;
        daemon.ErrorDataReceived += (_, _) => { };
        daemon.OutputDataReceived += (_, _) => { };
        daemon.BeginErrorReadLine();
        daemon.BeginOutputReadLine();
        try
        {
            // The first moment the process catches SIGHUP (bit 0 of SigCgt in /proc/PID/status) the daemon has
            // not started yet: its control socket does not exist. Before the fix the handler came after start.
            bool caught = false;
            bool socketExisted = false;
            var waited = Stopwatch.StartNew();
            while (!caught && !daemon.HasExited && waited.Elapsed < TimeSpan.FromSeconds(60))
            {
                caught = CatchesSighup(daemon.Id);
                socketExisted = File.Exists(socket);
            }

            Assert.True(caught, "the daemon never installed a SIGHUP handler");
            Assert.False(socketExisted, "the SIGHUP handler was installed only after the daemon had started");

            // A storm of SIGHUPs while it starts and runs: it keeps running and answers.
            bool answered = false;
            for (int i = 0; i < 200 && !answered; i++)
            {
                Assert.False(daemon.HasExited, $"the daemon died of SIGHUP #{i} (exit {(daemon.HasExited ? daemon.ExitCode : 0)})");
                ProcessRunner.Run("kill", "-HUP", daemon.Id.ToString(CultureInfo.InvariantCulture)).EnsureSuccess();
                answered = i % 10 == 9 && FastpathProcess.Run("stats", "--json", "--control", "unix:" + socket).ExitCode == 0;
            }

            Assert.True(answered, "the daemon never answered on its control socket");
            Assert.False(daemon.HasExited);
        }
        finally
        {
            if (!daemon.HasExited)
            {
                ProcessRunner.Run("kill", "-TERM", daemon.Id.ToString(CultureInfo.InvariantCulture));
                if (!daemon.WaitForExit(30_000))
                {
                    daemon.Kill();
                }
            }
        }
    }

    private static bool CatchesSighup(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("SigCgt:", StringComparison.Ordinal))
                {
                    return (ulong.Parse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & 1) != 0;
                }
            }
        }
        catch (IOException)
        {
            // The process is gone.
        }

        return false;
    }
}
