using System.CommandLine;
using System.CommandLine.Parsing;
using FastPath.Cli.Commands;
using FastPath.Control;
using FastPath.Dataplane.Ports;

namespace FastPath.Cli;

/// <summary>
/// Builds the <c>fastpath</c> command tree and turns every way a command can end into an exit code
/// and at most one line on stderr: a user sees what went wrong and where, never a stack trace.
/// </summary>
internal static class FastPathCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("FastPath: a user-space packet data plane that translates between user and secure environments, and a high-availability vTPM pair.")
        {
            TranslateCommand.Create(),
            InspectCommand.Create(),
            BenchCommand.Create(),
            GenCommand.Create(),
            RunCommand.Create(),
            MapCommand.Create(),
            StatsCommand.Create(),
            VtpmCommand.Create(),
            GuestCommand.Create(),
            CaptureCommand.Create(),
        };
        return root;
    }

    public static int Run(string[] args)
    {
        // A SIGHUP's default action ends the process: the daemon's handlers go in before any other work.
        using DaemonSignals? signals = args is ["run", ..] ? DaemonSignals.Install(Console.Error) : null;
        RunCommand.EarlySignals = signals;
        RootCommand root = Build();
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // An unknown word explains the other errors it causes ("required command was not provided"), so it goes first.
            ParseError first = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal)) ?? parse.Errors[0];
            Console.Error.WriteLine($"fastpath: {OneLine(first.Message)} (see 'fastpath --help')");
            return ExitCodes.BadInput;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception exception)
        {
            int code = ExitCodeFor(exception);
            Console.Error.WriteLine($"fastpath: {OneLine(exception.Message)}");
            return code;
        }
    }

    /// <summary>Bad usage and bad input files (malformed or missing) are 2; everything else 1.</summary>
    internal static int ExitCodeFor(Exception exception) => exception switch
    {
        UsageException or CaptureFileException or InputFileException or FastPath.Control.ControlSocket.ControlException { Code: "bad-request" } or InvalidDataException or FileNotFoundException or DirectoryNotFoundException
            => ExitCodes.BadInput,
        _ => ExitCodes.Failure,
    };

    private static string OneLine(string message)
    {
        int newline = message.IndexOfAny(['\r', '\n']);
        return newline < 0 ? message : message[..newline];
    }
}
