using FastPath.Testing;

namespace FastPath.Vtpm.Tests.Infrastructure;

/// <summary>Runs a tpm2-tools program against a server through the swtpm TCTI (a new TCP connection per command).</summary>
/// <remarks>Thread-safe: each call is its own process.</remarks>
internal static class Tpm2Tools
{
    public static ProcessResult Run(int port, string tool, IEnumerable<string> arguments, string? standardInput = null, string? workingDirectory = null) =>
        ProcessRunner.Run(
            tool,
            arguments,
            TimeSpan.FromSeconds(60),
            standardInput,
            new Dictionary<string, string> { ["TPM2TOOLS_TCTI"] = $"swtpm:host=127.0.0.1,port={port}" },
            workingDirectory);

    public static ProcessResult Run(int port, string tool, params string[] arguments) => Run(port, tool, (IEnumerable<string>)arguments);

    /// <summary>The TPM response code from a failed tool's stderr ("ErrorCode (0x0000098e)"), or null.</summary>
    public static string? ErrorCode(ProcessResult result)
    {
        int at = result.StandardError.IndexOf("ErrorCode (0x", StringComparison.Ordinal);
        return at < 0 ? null : result.StandardError.Substring(at + 11, 10);
    }
}
