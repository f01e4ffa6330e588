using System.CommandLine;

namespace FastPath.Cli.Commands;

/// <summary><c>fastpath translate --maps M.json --from user|secure IN OUT [--json]</c>.</summary>
internal static class TranslateCommand
{
    public static Command Create()
    {
        var maps = new Option<FileInfo>("--maps") { Description = "Maps file (JSON) with the user ↔ secure mappings", Required = true };
        var from = new Option<string>("--from") { Description = "Side the packets arrived on", Required = true };
        from.AcceptOnlyFromAmong("user", "secure");
        var input = new Argument<FileInfo>("IN") { Description = "Input capture (pcap or pcapng)" };
        var output = new Argument<FileInfo>("OUT") { Description = "Output capture, written in the input's format" };
        var json = new Option<bool>("--json") { Description = "Print the verdict counts as one JSON object" };

        var command = new Command("translate", Pending.Describe("Translate a capture offline; prints counts per verdict", 5))
        {
            maps, from, input, output, json,
        };
        command.SetAction(Pending.For("translate", 5));
        return command;
    }
}
