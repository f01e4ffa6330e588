using FastPath.Testing;

namespace FastPath.Cli.Tests;

/// <summary>Runs the real <c>fastpath</c> executable that the build put next to the tests.</summary>
internal static class FastpathProcess
{
    public static string Executable => Path.Combine(AppContext.BaseDirectory, "fastpath");

    public static ProcessResult Run(params string[] arguments) => ProcessRunner.Run(Executable, arguments);

    /// <summary>The repository root (the folder holding FastPath.sln), found upwards from the test binaries.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "FastPath.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("FastPath.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
