using System.Diagnostics;
using FastPath.Testing;

namespace FastPath.Vtpm.Tests.Infrastructure;

/// <summary>A TPM server child process on a free loopback port pair: either the real <c>fastpath vtpm serve
/// --single</c> or the reference <c>swtpm socket</c>. Dispose kills it (by its own PID) and removes its state
/// unless the state directory was supplied by the caller.</summary>
/// <remarks>Not thread-safe; one test owns one instance.</remarks>
internal sealed class TpmServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly TempDirectory? _ownedState;
    private readonly System.Text.StringBuilder _stderr = new();

    private TpmServerProcess(string name, string fileName, IEnumerable<string> arguments, int port, string stateDirectory, TempDirectory? ownedState)
    {
        Name = name;
        Port = port;
        StateDirectory = stateDirectory;
        _ownedState = ownedState;
        var start = new ProcessStartInfo(fileName) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        FreePorts.WaitForListener(port, TimeSpan.FromSeconds(30), () => $"{name} exited={_process.HasExited} stderr={Stderr}");
        FreePorts.WaitForListener(port + 1, TimeSpan.FromSeconds(10), () => $"{name} control channel; stderr={Stderr}");
    }

    public string Name { get; }

    public int Port { get; }

    public string StateDirectory { get; }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>The <c>fastpath</c> executable the build put under control/FastPath.Cli/bin/&lt;config&gt;/net10.0.</summary>
    public static string FastpathExecutable
    {
        get
        {
            // Tests run from tests/FastPath.Vtpm.Tests/bin/<config>/net10.0/: mirror the configuration.
            var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
            string framework = testBin.Name;
            string configuration = testBin.Parent!.Name;
            for (DirectoryInfo? dir = testBin; dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "FastPath.sln")))
                {
                    string path = Path.Combine(dir.FullName, "control", "FastPath.Cli", "bin", configuration, framework, "fastpath");
                    return File.Exists(path) ? path : throw new FileNotFoundException($"build the CLI first: {path} is missing");
                }
            }

            throw new InvalidOperationException("FastPath.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static TpmServerProcess StartFastpath(string? stateDirectory = null, int? port = null)
    {
        TempDirectory? owned = stateDirectory is null ? new TempDirectory() : null;
        string state = stateDirectory ?? owned!.Path;
        int p = port ?? FreePorts.Pair();
        return new TpmServerProcess("fastpath", FastpathExecutable, ["vtpm", "serve", "--port", p.ToString(), "--allow-tcp-state-commands", "--state", state, "--single"], p, state, owned);
    }

    public static TpmServerProcess StartSwtpm()
    {
        var owned = new TempDirectory();
        int p = FreePorts.Pair();
        return new TpmServerProcess(
            "swtpm",
            "swtpm",
            ["socket", "--tpm2", "--server", $"type=tcp,port={p},bindaddr=127.0.0.1", "--ctrl", $"type=tcp,port={p + 1},bindaddr=127.0.0.1", "--tpmstate", $"dir={owned.Path}", "--flags", "not-need-init"],
            p,
            owned.Path,
            owned);
    }

    /// <summary>SIGKILL: no chance to flush anything (what "state survives kill -9" is about).</summary>
    public void Kill9()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill9();
        _process.Dispose();
        _ownedState?.Dispose();
    }
}
