using System.CommandLine;
using FastPath.Control;
using FastPath.Control.Config;

namespace FastPath.Cli.Commands;

/// <summary><c>fastpath run --config fastpath.json [--control ENDPOINT] [--check]</c>: the daemon, or only its configuration check.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config") { Description = "Daemon configuration (JSON; see README 'Daemon configuration')", Required = true };
        var control = new Option<string>("--control") { Description = "Control endpoint: unix:PATH or tcp:127.0.0.1:PORT (overrides the config)" };

        var check = new Option<bool>("--check") { Description = "Only validate the configuration (maps file, interfaces, sockets) without opening anything: exit 0, or 2 with the problem" };

        var command = new Command("run", "Run the daemon: ports, workers, control socket, metrics, vTPM (SIGTERM/SIGINT drain and stop, SIGHUP re-reads the maps)")
        {
            config, control, check,
        };
        command.SetAction(parse =>
        {
            // Signal handlers before anything else (FastPathCli installs them before parsing the command line).
            using DaemonSignals? own = EarlySignals is null ? DaemonSignals.Install(Console.Error) : null;
            DaemonSignals signals = EarlySignals ?? own!;

            // The whole configuration (maps file included) is checked before any port opens: a bad one exits 2.
            DaemonConfig settings = ConfigLoader.Load(parse.GetValue(config)!.FullName, parse.GetValue(control));
            if (parse.GetValue(check))
            {
                Console.Out.WriteLine($"fastpath: {ConfigCheck.Check(settings)}");
                return ExitCodes.Success;
            }

            using Daemon daemon = Daemon.Start(settings, Console.Error);
            return daemon.Run(signals);
        });
        return command;
    }

    /// <summary>The daemon's signal handlers when <c>fastpath run</c> is the command, installed by
    /// <see cref="FastPathCli.Run"/> before the command line is even parsed.</summary>
    internal static DaemonSignals? EarlySignals { get; set; }
}
