using System.CommandLine;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Guest;

namespace FastPath.Cli.Commands;

/// <summary><c>fastpath guest echo|probe-header --socket S</c>: guest processes on the guest channel.</summary>
internal static class GuestCommand
{
    public static Command Create()
    {
        var echoSocket = new Option<string>("--socket") { Description = "Guest channel socket of the data plane", Required = true };
        var echo = new Command("echo", "A UDP echo service as a guest: receives payloads and sends them back") { echoSocket };
        echo.SetAction(parse =>
        {
            using GuestClient client = GuestClient.Connect(parse.GetRequiredValue(echoSocket));
            using var stop = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                stop.Cancel();
            };
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                stop.Cancel();
            });
            Console.Out.WriteLine($"echo guest attached: {client.FrameCount} frames of {client.PayloadSlotSize} bytes");
            Console.Out.Flush();
            long echoed = GuestEcho.Run(client, stop.Token);
            Console.Out.WriteLine($"echoed {echoed} payloads");
            return ExitCodes.Success;
        });

        var probeSocket = new Option<string>("--socket") { Description = "Guest channel socket of the data plane", Required = true };
        var probe = new Command("probe-header", "A hostile guest that tries to read and then write a header page (the MMU must kill it with SIGSEGV)") { probeSocket };
        probe.SetAction(parse =>
        {
            using GuestClient client = GuestClient.Connect(parse.GetRequiredValue(probeSocket));
            HeaderProbe.ReadThenWrite(client, Console.Out);
            Console.Error.WriteLine("fastpath: the header page was reachable from the guest: isolation is broken");
            return ExitCodes.Failure;
        });

        return new Command("guest", "Guest processes on the guest channel (payload pages only)") { echo, probe };
    }
}
