using System.CommandLine;
using FastPath.Control;
using FastPath.Control.Config;

namespace FastPath.Cli.Commands;

/// <summary><c>fastpath run --config fastpath.json [--control ENDPOINT]</c>: the daemon.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config") { Description = "Daemon configuration (JSON; see README 'Daemon configuration')", Required = true };
        var control = new Option<string>("--control") { Description = "Control endpoint: unix:PATH or tcp:127.0.0.1:PORT (overrides the config)" };

        var command = new Command("run", "Run the daemon: ports, workers, control socket, metrics, vTPM (SIGTERM/SIGINT drain and stop, SIGHUP re-reads the maps)")
        {
            config, control,
        };
        command.SetAction(parse =>
        {
            // Signal handlers before anything else (FastPathCli installs them before parsing the command line).
            using DaemonSignals? own = EarlySignals is null ? DaemonSignals.Install(Console.Error) : null;
            DaemonSignals signals = EarlySignals ?? own!;

            // The whole configuration (maps file included) is checked before any port opens: a bad one exits 2.
            DaemonConfig settings = ConfigLoader.Load(parse.GetValue(config)!.FullName, parse.GetValue(control));
            using Daemon daemon = Daemon.Start(settings, Console.Error);
            return daemon.Run(signals);
        });
        return command;
    }

    /// <summary>The daemon's signal handlers when <c>fastpath run</c> is the command, installed by
    /// <see cref="FastPathCli.Run"/> before the command line is even parsed.</summary>
    internal static DaemonSignals? EarlySignals { get; set; }
}
