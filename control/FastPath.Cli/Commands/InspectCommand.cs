using System.CommandLine;
using FastPath.Control.Offline;

namespace FastPath.Cli.Commands;

/// <summary><c>fastpath inspect IN [--json]</c>.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var input = new Argument<FileInfo>("IN") { Description = "Capture file (pcap or pcapng)" };
        var json = new Option<bool>("--json") { Description = "One JSON object per packet" };

        var command = new Command("inspect", "Print one line per packet of a capture") { input, json };
        command.SetAction(parse =>
        {
            CaptureInspector.Run(parse.GetRequiredValue(input).FullName, parse.GetValue(json), Console.Out);
            return ExitCodes.Success;
        });
        return command;
    }
}
