using System.CommandLine;

namespace FastPath.Cli.Commands;

/// <summary>The action of a command whose issue has not landed yet: says so and exits 1.</summary>
internal static class Pending
{
    public static string Describe(string description, int issue) => $"{description} [not available yet: issue #{issue}]";

    public static Func<ParseResult, int> For(string command, int issue) => _ =>
    {
        Console.Error.WriteLine($"fastpath: '{command}' is not available yet (issue #{issue})");
        return ExitCodes.Failure;
    };
}
