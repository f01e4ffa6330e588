using System.CommandLine;
using FastPath.Control.Maps;
using FastPath.Control.Offline;
using FastPath.Dataplane.Rewrite;

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

        var command = new Command("translate", "Translate a capture offline; prints counts per verdict")
        {
            maps, from, input, output, json,
        };
        command.SetAction(parse =>
        {
            var entries = MapsFile.Load(parse.GetRequiredValue(maps).FullName);
            var direction = parse.GetRequiredValue(from) == "user" ? TranslationDirection.UserToSecure : TranslationDirection.SecureToUser;
            string inPath = parse.GetRequiredValue(input).FullName;
            string outPath = parse.GetRequiredValue(output).FullName;
            if (string.Equals(inPath, outPath, StringComparison.Ordinal))
            {
                throw new UsageException("IN and OUT are the same file; the input would be overwritten while it is read");
            }

            TranslationCounts counts = CaptureTranslator.Run(entries, direction, inPath, outPath);
            CaptureTranslator.Report(counts, parse.GetValue(json), Console.Out);
            return ExitCodes.Success;
        });
        return command;
    }
}
