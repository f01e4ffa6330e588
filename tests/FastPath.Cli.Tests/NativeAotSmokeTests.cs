using FastPath.Testing;

namespace FastPath.Cli.Tests;

/// <summary>
/// Appliances embed the NativeAOT binary: publish it the documented way, with no trim/AOT warning,
/// and run it.
/// </summary>
public sealed class NativeAotSmokeTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_native_binary_publishes_without_warnings_and_runs()
    {
        string project = Path.Combine(FastpathProcess.RepositoryRoot, "control", "FastPath.Cli", "FastPath.Cli.csproj");
        ProcessResult publish = ProcessRunner.Run(
            "dotnet",
            ["publish", project, "-r", "linux-x64", "-c", "Release", "-p:PublishAot=true", "-o", _dir.Path],
            timeout: TimeSpan.FromMinutes(10));
        Assert.True(publish.ExitCode == 0, publish.StandardOutput + publish.StandardError);
        Assert.DoesNotMatch(@"warning (IL|CS)\d+", publish.StandardOutput);

        string binary = Path.Combine(_dir.Path, "fastpath");
        Assert.True(File.Exists(binary));
        Assert.False(File.Exists(Path.Combine(_dir.Path, "fastpath.dll")), "expected a native binary, not an IL assembly");

        ProcessResult help = ProcessRunner.Run(binary, "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("translate", help.StandardOutput);
        Assert.Equal(2, ProcessRunner.Run(binary, "no-such-command").ExitCode);

        // The native runtime must leave a guest's header fault to the kernel too: SIGSEGV, not an abort.
        using var pool = new FastPath.Dataplane.Memory.FramePool(64);
        using var guest = new FastPath.Dataplane.Guest.GuestPort("g0", _dir.File("guest.sock"), 0, System.Net.IPAddress.Parse("10.1.0.5"), pool);
        ProcessResult probe = ProcessRunner.Run(binary, "guest", "probe-header", "--socket", _dir.File("guest.sock"));
        Assert.True(probe.ExitCode == 128 + 11, $"expected SIGSEGV (139), got {probe.ExitCode}: {probe.StandardOutput}{probe.StandardError}");
    }
}
