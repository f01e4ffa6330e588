using System.CommandLine;

namespace FastPath.Cli.Commands;

/// <summary><c>fastpath stats [--json] [--watch]</c>.</summary>
internal static class StatsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object" };
        var watch = new Option<bool>("--watch") { Description = "Refresh in place every second" };
        var control = new Option<string>("--control") { Description = "Control endpoint of the daemon: unix:PATH or tcp:127.0.0.1:PORT" };

        var command = new Command("stats", Pending.Describe("Show port and worker rates, drops per reason, table occupancy, vTPM state", 10))
        {
            json, watch, control,
        };
        command.SetAction(Pending.For("stats", 10));
        return command;
    }
}
