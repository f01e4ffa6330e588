using System.CommandLine;
using FastPath.Control.Bench;
using FastPath.Dataplane.Pipeline;

namespace FastPath.Cli.Commands;

/// <summary><c>fastpath bench [--packets N] [--mappings M] [--size B] [--flows F] [--workers W] [--batch N] [--json]</c>.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var packets = new Option<long>("--packets") { Description = "Packets to push through the pipeline", DefaultValueFactory = _ => BenchOptions.DefaultPackets };
        var mappings = new Option<int>("--mappings") { Description = "Mappings in the table", DefaultValueFactory = _ => BenchOptions.DefaultMappings };
        var size = new Option<int>("--size") { Description = "Frame size in bytes, FCS included (64 = minimum)", DefaultValueFactory = _ => 64 };
        var flows = new Option<int>("--flows") { Description = "Distinct flows in the generated traffic", DefaultValueFactory = _ => BenchOptions.DefaultMappings };
        var workers = new Option<int>("--workers") { Description = "Worker threads (one core each)", DefaultValueFactory = _ => 1 };
        var batch = new Option<int>("--batch") { Description = "Frames per RX burst", DefaultValueFactory = _ => BenchOptions.DefaultBatchSize };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (mpps, ns_per_packet, packets, drops)" };

        var command = new Command("bench", "Run the in-memory pipeline at full speed; prints Mpps and ns/packet")
        {
            packets, mappings, size, flows, workers, batch, json,
        };
        command.SetAction(parse =>
        {
            var options = new BenchOptions(parse.GetValue(packets), parse.GetValue(mappings), parse.GetValue(size), parse.GetValue(flows),
                parse.GetValue(workers), parse.GetValue(batch));
            try
            {
                BenchRunner.Run(options, parse.GetValue(json), !Console.IsOutputRedirected, Console.Out);
            }
            catch (ArgumentException error)
            {
                throw new UsageException(error.Message);
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
