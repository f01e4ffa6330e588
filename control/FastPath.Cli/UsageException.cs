namespace FastPath.Cli;

/// <summary>The command line is well-formed but asks for something impossible (exit code 2).</summary>
internal sealed class UsageException(string message) : Exception(message);
