namespace FastPath.Cli;

/// <summary>The process exit codes every command uses (ARCHITECTURE.md, "Files and commands").</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>A runtime failure: a port could not be opened, a peer went away, the command is not available yet.</summary>
    public const int Failure = 1;

    /// <summary>Bad usage or a bad input file; the one-line message says what and where.</summary>
    public const int BadInput = 2;
}
