using System.Diagnostics;
using System.Text;

namespace FastPath.Testing;

/// <summary>What a finished child process left behind.</summary>
public sealed record ProcessResult(string Command, int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Throws with the command line and stderr unless the exit code was 0.</summary>
    public ProcessResult EnsureSuccess()
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException($"'{Command}' exited with {ExitCode}:\n{StandardError}\n{StandardOutput}");
        }

        return this;
    }
}

/// <summary>Runs real peers (tshark, scapy, ip, swtpm, tpm2-tools, fastpath) as child processes with a time bound.</summary>
/// <remarks>Thread-safe: every call owns its process.</remarks>
public static class ProcessRunner
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(120);

    public static ProcessResult Run(
        string fileName,
        IEnumerable<string> arguments,
        TimeSpan? timeout = null,
        string? standardInput = null,
        IReadOnlyDictionary<string, string>? environment = null,
        string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (workingDirectory is not null)
        {
            start.WorkingDirectory = workingDirectory;
        }

        if (environment is not null)
        {
            foreach ((string key, string value) in environment)
            {
                start.Environment[key] = value;
            }
        }

        string command = fileName + " " + string.Join(' ', start.ArgumentList);
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {command}");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (standardInput is not null)
        {
            process.StandardInput.Write(standardInput);
            process.StandardInput.Close();
        }

        if (!process.WaitForExit(timeout ?? DefaultTimeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"'{command}' did not finish within {timeout ?? DefaultTimeout}");
        }

        process.WaitForExit(); // Drains the redirected streams.
        return new ProcessResult(command, process.ExitCode, output.Result, error.Result);
    }

    public static ProcessResult Run(string fileName, params string[] arguments) => Run(fileName, (IEnumerable<string>)arguments);
}
