using System.CommandLine;

namespace FastPath.Cli.Commands;

/// <summary><c>fastpath vtpm serve|status|failover</c>.</summary>
internal static class VtpmCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Command channel TCP port (control channel is PORT+1)", Required = true };
        var state = new Option<DirectoryInfo>("--state") { Description = "State directory", Required = true };
        var single = new Option<bool>("--single") { Description = "Run one instance instead of the high-availability pair" };
        var serve = new Command("serve", Pending.Describe("Serve a vTPM (pair by default) behind the swtpm socket protocol", 8)) { port, state, single };
        serve.SetAction(Pending.For("vtpm serve", 8));

        var control = new Option<string>("--control") { Description = "Control endpoint of the daemon: unix:PATH or tcp:127.0.0.1:PORT" };
        var status = new Command("status", Pending.Describe("Show the pair's roles, lag, loads, failovers, last resync", 9)) { control };
        status.SetAction(Pending.For("vtpm status", 9));

        var failoverControl = new Option<string>("--control") { Description = "Control endpoint of the daemon: unix:PATH or tcp:127.0.0.1:PORT" };
        var failover = new Command("failover", Pending.Describe("Force the pair to switch master and slave", 9)) { failoverControl };
        failover.SetAction(Pending.For("vtpm failover", 9));

        return new Command("vtpm", "The virtual TPM and its high-availability pair") { serve, status, failover };
    }
}
