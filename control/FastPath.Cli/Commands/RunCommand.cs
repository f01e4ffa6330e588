using System.CommandLine;

namespace FastPath.Cli.Commands;

/// <summary><c>fastpath run --config fastpath.json</c>: the daemon.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config") { Description = "Daemon configuration (JSON)", Required = true };
        var control = new Option<string>("--control") { Description = "Control endpoint: unix:PATH or tcp:127.0.0.1:PORT (overrides the config)" };

        var command = new Command("run", Pending.Describe("Run the daemon: ports, workers, control socket, metrics, vTPM pair", 10))
        {
            config, control,
        };
        command.SetAction(Pending.For("run", 10));
        return command;
    }
}
