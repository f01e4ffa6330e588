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
    }
}
