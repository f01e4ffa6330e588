using System.CommandLine;

namespace FastPath.Cli.Commands;

/// <summary><c>fastpath bench [--packets N] [--mappings M] [--size B] [--flows F] [--workers W] [--json]</c>.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var packets = new Option<long>("--packets") { Description = "Packets to push through the pipeline" };
        var mappings = new Option<int>("--mappings") { Description = "Mappings in the table" };
        var size = new Option<int>("--size") { Description = "Frame size in bytes" };
        var flows = new Option<int>("--flows") { Description = "Distinct flows in the generated traffic" };
        var workers = new Option<int>("--workers") { Description = "Worker threads (one core each)" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (mpps, ns_per_packet, packets, drops)" };

        var command = new Command("bench", Pending.Describe("Run the in-memory pipeline at full speed; prints Mpps and ns/packet", 6))
        {
            packets, mappings, size, flows, workers, json,
        };
        command.SetAction(Pending.For("bench", 6));
        return command;
    }
}
