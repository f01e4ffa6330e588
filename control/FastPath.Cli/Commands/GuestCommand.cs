using System.CommandLine;

namespace FastPath.Cli.Commands;

/// <summary><c>fastpath guest echo|probe-header --socket S</c>: guest processes on the guest channel.</summary>
internal static class GuestCommand
{
    public static Command Create()
    {
        var echoSocket = new Option<string>("--socket") { Description = "Guest channel socket of the data plane", Required = true };
        var echo = new Command("echo", Pending.Describe("A UDP echo service as a guest: receives payloads and sends them back", 7)) { echoSocket };
        echo.SetAction(Pending.For("guest echo", 7));

        var probeSocket = new Option<string>("--socket") { Description = "Guest channel socket of the data plane", Required = true };
        var probe = new Command("probe-header", Pending.Describe("A hostile guest that tries to read and then write a header page", 7)) { probeSocket };
        probe.SetAction(Pending.For("guest probe-header", 7));

        return new Command("guest", "Guest processes on the guest channel (payload pages only)") { echo, probe };
    }
}
