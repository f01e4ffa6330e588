using System.Diagnostics;
using System.Text.Json;
using FastPath.Testing;

namespace FastPath.Cli.Tests;

/// <summary>
/// Appliances embed the NativeAOT binary: publish it the documented way, with no trim/AOT warning,
/// and run it.
/// </summary>
[Collection(Daemon.DaemonCollection.Name)]
public sealed class NativeAotSmokeTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_native_binary_publishes_without_warnings_and_runs()
    {
        ProcessResult publish = NativeAotPublish.Result;
        Assert.True(publish.ExitCode == 0, publish.StandardOutput + publish.StandardError);
        Assert.DoesNotMatch(@"warning (IL|CS)\d+", publish.StandardOutput);

        string binary = Path.Combine(NativeAotPublish.Folder, "fastpath");
        Assert.True(File.Exists(binary));
        Assert.False(File.Exists(Path.Combine(NativeAotPublish.Folder, "fastpath.dll")), "expected a native binary, not an IL assembly");

        ProcessResult help = ProcessRunner.Run(binary, "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("translate", help.StandardOutput);
        Assert.Equal(2, ProcessRunner.Run(binary, "no-such-command").ExitCode);

        // The native runtime must leave a guest's header fault to the kernel too: SIGSEGV, not an abort.
        using var guest = new FastPath.Dataplane.Guest.GuestPort("g0", _dir.File("guest.sock"), 0, System.Net.IPAddress.Parse("10.1.0.5"), 64);
        ProcessResult probe = ProcessRunner.Run(binary, "guest", "probe-header", "--socket", _dir.File("guest.sock"));
        Assert.True(probe.ExitCode == 128 + 11, $"expected SIGSEGV (139), got {probe.ExitCode}: {probe.StandardOutput}{probe.StandardError}");

        ProcessResult bench = ProcessRunner.Run(binary, ["bench", "--packets", "100000", "--mappings", "1000", "--flows", "1000", "--json"]);
        Assert.True(bench.ExitCode == 0, bench.StandardError);
        using (var result = JsonDocument.Parse(bench.StandardOutput))
        {
            Assert.True(result.RootElement.GetProperty("mpps").GetDouble() > 0, bench.StandardOutput);
        }

        string root = FastpathProcess.RepositoryRoot;
        ProcessResult translate = ProcessRunner.Run(binary, ["translate", "--maps", Path.Combine(root, "tools/samples/maps.json"), "--from", "user",
            Path.Combine(root, "tools/samples/user-side.pcapng"), _dir.File("secure.pcapng"), "--json"]);
        Assert.True(translate.ExitCode == 0, translate.StandardError);
        using (var result = JsonDocument.Parse(translate.StandardOutput))
        {
            Assert.Equal(7, result.RootElement.GetProperty("packets").GetInt64());
        }

        RunDaemon(binary);
    }

    /// <summary>The native binary is the daemon too: start it on in-memory ports, drive it, stop it with SIGTERM.</summary>
    private void RunDaemon(string binary)
    {
        string control = "unix:" + _dir.File("control.sock");
        File.WriteAllText(_dir.File("fastpath.json"), """{ "ports": { "a": { "type": "sink" }, "b": { "type": "sink" } }, "pairs": [ { "user": "a", "secure": "b" } ] }""");
        var start = new ProcessStartInfo(binary) { RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in new[] { "run", "--config", _dir.File("fastpath.json"), "--control", control })
        {
            start.ArgumentList.Add(argument);
        }

        using Process daemon = Process.Start(start)!;
        try
        {
            ProcessResult? add = null;
            for (int i = 0; i < 100 && add?.ExitCode != 0; i++)
            {
                Thread.Sleep(100);
                add = ProcessRunner.Run(binary, ["map", "add", "--user", "198.18.1.5", "--secure", "198.19.1.5", "--control", control]);
            }

            Assert.True(add!.ExitCode == 0, add.StandardError);
            ProcessResult stats = ProcessRunner.Run(binary, ["stats", "--json", "--control", control]);
            Assert.True(stats.ExitCode == 0, stats.StandardError);
            using var result = JsonDocument.Parse(stats.StandardOutput);
            Assert.Equal(1, result.RootElement.GetProperty("table").GetProperty("mappings").GetInt64());

            ProcessRunner.Run("kill", "-TERM", daemon.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)).EnsureSuccess();
            Assert.True(daemon.WaitForExit(TimeSpan.FromSeconds(30)), "the native daemon did not stop on SIGTERM");
            Assert.Equal(0, daemon.ExitCode);
        }
        finally
        {
            if (!daemon.HasExited)
            {
                daemon.Kill();
            }
        }
    }
}
