using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FastPath.Control.ControlSocket;

namespace FastPath.Cli.Commands;

/// <summary><c>fastpath stats [--json] [--watch]</c>.</summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object" };
        var watch = new Option<bool>("--watch") { Description = "Refresh in place every second (Ctrl-C to stop)" };
        var control = new Option<string>("--control") { Description = "Control endpoint of the daemon: unix:PATH or tcp:127.0.0.1:PORT ($FASTPATH_CONTROL)" };

        var command = new Command("stats", "Show per-port and per-worker rates, drops per reason, table occupancy, vTPM state")
        {
            json, watch, control,
        };
        command.SetAction(parse =>
        {
            using ControlClient client = ControlConnection.Open(parse.GetValue(control));
            bool asJson = parse.GetValue(json);
            bool refresh = parse.GetValue(watch);
            bool terminal = !Console.IsOutputRedirected;
            using var stop = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                stop.Cancel();
            };
            do
            {
                using JsonDocument result = MapCommand.Call(client, "stats", null);
                JsonElement stats = result.RootElement.GetProperty("result");
                string text = asJson ? stats.GetRawText() + "\n" : Render(stats);
                if (refresh && terminal)
                {
                    // Home the cursor and clear below: the table redraws in place instead of scrolling.
                    Console.Write("\u001b[H\u001b[J");
                }

                Console.Write(text);
                Console.Out.Flush();
            }
            while (refresh && !stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(1)));

            return ExitCodes.Success;
        });
        return command;
    }

    internal static string Render(JsonElement stats)
    {
        var text = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        JsonElement table = stats.GetProperty("table");
        JsonElement vtpm = stats.GetProperty("vtpm");
        JsonElement runtime = stats.GetProperty("runtime");
        text.Append(c, $"uptime {stats.GetProperty("uptime_seconds").GetDouble():0} s; table {table.GetProperty("mappings").GetInt64()} mappings of {table.GetProperty("capacity").GetInt64()} ({table.GetProperty("occupancy").GetDouble() * 100:0.#}%), {table.GetProperty("updates").GetInt64()} updates; vtpm {vtpm.GetProperty("state").GetString()}");
        if (vtpm.TryGetProperty("pair", out JsonElement pair))
        {
            text.Append(" (");
            foreach (JsonElement member in pair.GetProperty("members").EnumerateArray())
            {
                text.Append(c, $"{member.GetProperty("name").GetString()} {member.GetProperty("role").GetString()}, ");
            }

            text.Append(c, $"{pair.GetProperty("failovers").GetInt64()} failovers)");
        }

        string[] collections = [.. runtime.GetProperty("gc_collections").EnumerateArray().Select(count => count.GetInt64().ToString(c))];
        text.Append(c, $"; gc {string.Join('/', collections)} collections, {runtime.GetProperty("gc_pause_seconds").GetDouble() * 1000:0.#} ms paused\n\n");
        text.Append(c, $"{"port",-12} {"side",-7} {"rx pkts",14} {"rx pps",12} {"rx bps",14} {"tx pkts",14} {"tx pps",12} {"tx bps",14} {"kernel drops",13}\n");
        foreach (JsonElement port in stats.GetProperty("ports").EnumerateArray())
        {
            text.Append(c, $"{port.GetProperty("name").GetString(),-12} {port.GetProperty("side").GetString(),-7} {port.GetProperty("rx_packets").GetInt64(),14} {Si(port.GetProperty("rx_pps").GetDouble()),12} {Si(port.GetProperty("rx_bps").GetDouble()),14} {port.GetProperty("tx_packets").GetInt64(),14} {Si(port.GetProperty("tx_pps").GetDouble()),12} {Si(port.GetProperty("tx_bps").GetDouble()),14} {port.GetProperty("kernel_drops").GetInt64(),13}\n");
        }

        text.Append(c, $"\n{"worker",-6} {"core",5} {"busy",6} {"rx pkts",14} {"rx pps",12} {"rx bps",14} {"tx pkts",14} {"tx pps",12} {"tx bps",14}\n");
        foreach (JsonElement worker in stats.GetProperty("workers").EnumerateArray())
        {
            int core = worker.GetProperty("core").GetInt32();
            text.Append(c, $"{worker.GetProperty("id").GetInt32(),-6} {(core < 0 ? "-" : core.ToString(c)),5} {worker.GetProperty("busy").GetDouble() * 100,5:0}% {worker.GetProperty("rx_packets").GetInt64(),14} {Si(worker.GetProperty("rx_pps").GetDouble()),12} {Si(worker.GetProperty("rx_bps").GetDouble()),14} {worker.GetProperty("tx_packets").GetInt64(),14} {Si(worker.GetProperty("tx_pps").GetDouble()),12} {Si(worker.GetProperty("tx_bps").GetDouble()),14}\n");
        }

        text.Append(c, $"\n{"worker",-6} {"batches",14} {"batch p50",12} {"p99",12} {"p99.9",12} {"max",12}\n");
        foreach (JsonElement worker in stats.GetProperty("workers").EnumerateArray())
        {
            if (worker.TryGetProperty("batch_ns", out JsonElement batch))
            {
                text.Append(c, $"{worker.GetProperty("id").GetInt32(),-6} {batch.GetProperty("count").GetInt64(),14} {Nanoseconds(batch, "p50"),12} {Nanoseconds(batch, "p99"),12} {Nanoseconds(batch, "p999"),12} {Nanoseconds(batch, "max"),12}\n");
            }
        }

        text.Append("\ndrops:");
        bool any = false;
        foreach (JsonProperty reason in stats.GetProperty("drops").EnumerateObject())
        {
            if (reason.Value.GetInt64() != 0)
            {
                text.Append(c, $" {reason.Name}={reason.Value.GetInt64()}");
                any = true;
            }
        }

        text.Append(any ? "\n" : " none\n");
        return text.ToString();
    }

    /// <summary>A duration in ns as 850ns, 12.3us, 4.56ms or 1.23s.</summary>
    private static string Nanoseconds(JsonElement batch, string name)
    {
        double ns = batch.GetProperty(name).GetInt64();
        return ns switch
        {
            >= 1e9 => (ns / 1e9).ToString("0.00", CultureInfo.InvariantCulture) + "s",
            >= 1e6 => (ns / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + "ms",
            >= 1e3 => (ns / 1e3).ToString("0.0", CultureInfo.InvariantCulture) + "us",
            _ => ns.ToString("0", CultureInfo.InvariantCulture) + "ns",
        };
    }

    private static string Si(double value) => value switch
    {
        >= 1e9 => (value / 1e9).ToString("0.00", CultureInfo.InvariantCulture) + "G",
        >= 1e6 => (value / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + "M",
        >= 1e3 => (value / 1e3).ToString("0.00", CultureInfo.InvariantCulture) + "k",
        _ => value.ToString("0", CultureInfo.InvariantCulture),
    };
}
