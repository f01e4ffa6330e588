using FastPath.Testing;

namespace FastPath.Cli.Tests;

/// <summary>
/// One NativeAOT publish of the CLI per test run (it takes minutes), shared by the smoke test and the .deb test:
/// <c>dotnet publish control/FastPath.Cli -r linux-x64 -c Release -p:PublishAot=true</c>, the documented way, into a
/// temporary folder removed when the test process exits.
/// </summary>
internal static class NativeAotPublish
{
    private static readonly Lazy<(string Folder, ProcessResult Result)> s_publish = new(Publish, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The folder holding the native <c>fastpath</c>.</summary>
    public static string Folder => s_publish.Value.Folder;

    /// <summary>What <c>dotnet publish</c> printed and returned.</summary>
    public static ProcessResult Result => s_publish.Value.Result;

    private static (string, ProcessResult) Publish()
    {
        string folder = Path.Combine(Path.GetTempPath(), "fastpath-aot-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // Best effort: a leftover temporary folder is harmless.
            }
        };

        string project = Path.Combine(FastpathProcess.RepositoryRoot, "control", "FastPath.Cli", "FastPath.Cli.csproj");
        ProcessResult publish = ProcessRunner.Run(
            "dotnet",
            ["publish", project, "-r", "linux-x64", "-c", "Release", "-p:PublishAot=true", "-o", folder],
            timeout: TimeSpan.FromMinutes(15));
        return (folder, publish);
    }
}
