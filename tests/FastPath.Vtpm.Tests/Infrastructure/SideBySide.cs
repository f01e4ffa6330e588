using FastPath.Testing;

namespace FastPath.Vtpm.Tests.Infrastructure;

/// <summary>A fresh <c>fastpath vtpm serve</c> and a fresh <c>swtpm</c>, both started up (Startup(CLEAR)),
/// and a scratch directory for the files tpm2-tools reads and writes.</summary>
/// <remarks>Not thread-safe; one test owns one instance.</remarks>
internal sealed class SideBySide : IDisposable
{
    public SideBySide()
    {
        Fastpath = TpmServerProcess.StartFastpath();
        Swtpm = TpmServerProcess.StartSwtpm();
        Files = new TempDirectory();
        Both("tpm2_startup", "-c").Fastpath.EnsureSuccess();
    }

    public TpmServerProcess Fastpath { get; }

    public TpmServerProcess Swtpm { get; }

    public TempDirectory Files { get; }

    public string File(string name, byte[] contents)
    {
        string path = Files.File(name);
        System.IO.File.WriteAllBytes(path, contents);
        return path;
    }

    /// <summary>Runs the same tool invocation against both servers.</summary>
    public (ProcessResult Fastpath, ProcessResult Swtpm) Both(string tool, params string[] arguments) => BothWithInput(tool, null, arguments);

    public (ProcessResult Fastpath, ProcessResult Swtpm) BothWithInput(string tool, string? standardInput, params string[] arguments)
    {
        ProcessResult fastpath = Tpm2Tools.Run(Fastpath.Port, tool, arguments, standardInput, Files.Path);
        ProcessResult swtpm = Tpm2Tools.Run(Swtpm.Port, tool, arguments, standardInput, Files.Path);
        return (fastpath, swtpm);
    }

    /// <summary>Runs on both, requires success on both and identical standard output; returns it.</summary>
    public string Same(string tool, params string[] arguments)
    {
        (ProcessResult fastpath, ProcessResult swtpm) = Both(tool, arguments);
        swtpm.EnsureSuccess();
        fastpath.EnsureSuccess();
        Assert.Equal(swtpm.StandardOutput, fastpath.StandardOutput);
        return fastpath.StandardOutput;
    }

    /// <summary>Runs on both, requires both to fail with the same TPM response code; returns it.</summary>
    public string SameError(string tool, params string[] arguments)
    {
        (ProcessResult fastpath, ProcessResult swtpm) = Both(tool, arguments);
        Assert.NotEqual(0, swtpm.ExitCode);
        Assert.NotEqual(0, fastpath.ExitCode);
        string? expected = Tpm2Tools.ErrorCode(swtpm);
        Assert.NotNull(expected);
        Assert.Equal(expected, Tpm2Tools.ErrorCode(fastpath));
        return expected!;
    }

    public void Dispose()
    {
        Fastpath.Dispose();
        Swtpm.Dispose();
        Files.Dispose();
    }
}
