using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Protocol;
using FastPath.Vtpm.State;

namespace FastPath.Cli.Commands;

/// <summary><c>fastpath vtpm serve|status|failover</c>.</summary>
internal static class VtpmCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Command channel TCP port (control channel is PORT+1)", Required = true };
        var state = new Option<DirectoryInfo>("--state") { Description = "State directory", Required = true };
        var single = new Option<bool>("--single") { Description = "Run one instance instead of the high-availability pair" };
        var serve = new Command("serve", "Serve a vTPM behind the swtpm socket protocol on 127.0.0.1 (--single; the pair is issue #9)") { port, state, single };
        serve.SetAction(parse => Serve(parse.GetValue(port), parse.GetRequiredValue(state), parse.GetValue(single)));

        var control = new Option<string>("--control") { Description = "Control endpoint of the daemon: unix:PATH or tcp:127.0.0.1:PORT" };
        var status = new Command("status", Pending.Describe("Show the pair's roles, lag, loads, failovers, last resync", 9)) { control };
        status.SetAction(Pending.For("vtpm status", 9));

        var failoverControl = new Option<string>("--control") { Description = "Control endpoint of the daemon: unix:PATH or tcp:127.0.0.1:PORT" };
        var failover = new Command("failover", Pending.Describe("Force the pair to switch master and slave", 9)) { failoverControl };
        failover.SetAction(Pending.For("vtpm failover", 9));

        return new Command("vtpm", "The virtual TPM and its high-availability pair") { serve, status, failover };
    }

    /// <summary>Runs one vTPM until SIGINT/SIGTERM or the control channel's CMD_SHUTDOWN.</summary>
    private static int Serve(int port, DirectoryInfo stateDirectory, bool single)
    {
        if (!single)
        {
            // The pair (master/slave lockstep, failover) is issue #9; refusing is clearer than silently serving one.
            Console.Error.WriteLine("fastpath: 'vtpm serve' without --single runs the high-availability pair, which is not available yet (issue #9); use --single");
            return ExitCodes.Failure;
        }

        if (port is <= 0 or >= 65535)
        {
            throw new UsageException($"--port {port}: must be 1..65534 (the control channel uses port + 1)");
        }

        var store = new StateStore(stateDirectory.FullName);
        using var server = new SwtpmServer(store, SystemRandomSource.Instance);
        server.Start(IPAddress.Loopback, port);
        Console.Error.WriteLine($"fastpath: vtpm serving on 127.0.0.1:{port} (control {port + 1}), state {store.FilePath}");

        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.TrySetResult();
        });
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            stop.TrySetResult();
        });
        Task.WaitAny(stop.Task, server.ShutdownRequested);
        return ExitCodes.Success;
    }
}
