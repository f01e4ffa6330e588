using System.Diagnostics;
using System.Text;
using FastPath.Testing;

namespace FastPath.Cli.Tests.Daemon;

/// <summary>A <c>fastpath run</c> child process: started, waited for until its control socket answers, stopped with SIGTERM.</summary>
internal sealed class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private DaemonProcess(Process process, string control)
    {
        _process = process;
        Control = control;
        process.ErrorDataReceived += (_, e) =>
        {
            lock (_log)
            {
                _log.AppendLine(e.Data);
            }
        };
        process.OutputDataReceived += (_, e) =>
        {
            lock (_log)
            {
                _log.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
    }

    public string Control { get; }

    public int Pid => _process.Id;

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <param name="executable">The <c>fastpath</c> to run: the build under test unless given (the installed .deb's).</param>
    public static DaemonProcess Start(string config, string control, IReadOnlyDictionary<string, string>? environment = null, string? executable = null)
    {
        var start = new ProcessStartInfo(executable ?? FastpathProcess.Executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        foreach (string argument in new[] { "run", "--config", config, "--control", control })
        {
            start.ArgumentList.Add(argument);
        }

        var daemon = new DaemonProcess(Process.Start(start)!, control);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            if (daemon._process.HasExited)
            {
                throw new InvalidOperationException($"fastpath run exited with {daemon._process.ExitCode}:\n{daemon.Log}");
            }

            if (daemon.Cli("stats", "--json").ExitCode == 0)
            {
                return daemon;
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(60))
            {
                daemon.Dispose();
                throw new TimeoutException("fastpath run did not open its control socket within 60 s:\n" + daemon.Log);
            }

            Thread.Sleep(200);
        }
    }

    /// <summary>Runs a client command against this daemon.</summary>
    public ProcessResult Cli(params string[] arguments) =>
        ProcessRunner.Run(FastpathProcess.Executable, [.. arguments, "--control", Control], TimeSpan.FromMinutes(5));

    /// <summary>Sends a signal to the daemon (this process started it; it is addressed by its PID only).</summary>
    public void Signal(string signal) => ProcessRunner.Run("kill", "-" + signal, Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)).EnsureSuccess();

    /// <summary>SIGTERM, then the exit code.</summary>
    public int Stop(TimeSpan timeout)
    {
        Signal("TERM");
        if (!_process.WaitForExit(timeout))
        {
            throw new TimeoutException("fastpath run did not stop on SIGTERM:\n" + Log);
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
