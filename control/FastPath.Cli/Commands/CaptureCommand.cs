using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text.Json;
using FastPath.Control.ControlSocket;

namespace FastPath.Cli.Commands;

/// <summary>
/// <c>fastpath capture --port NAME [--direction rx|tx|both] [--drops] [--count N] [--snaplen B] [--filter EXPR] -w FILE|-</c>:
/// a live capture of a running daemon's port, written as pcapng (to stdout with <c>-w -</c>, for <c>| tshark -r -</c>).
/// </summary>
internal static class CaptureCommand
{
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(20);

    public static Command Create()
    {
        var port = new Option<string>("--port") { Description = "Port to capture (a name from the daemon's configuration)", Required = true };
        var direction = new Option<string>("--direction") { Description = "rx (as received), tx (as sent, translated) or both", DefaultValueFactory = _ => "both" };
        direction.AcceptOnlyFromAmong("rx", "tx", "both");
        var drops = new Option<bool>("--drops") { Description = "Only frames the data plane dropped, each with its drop reason (an EPB comment)" };
        var count = new Option<long>("--count") { Description = "Stop after N frames (0: until Ctrl+C/SIGTERM)" };
        var snaplen = new Option<int>("--snaplen") { Description = "Bytes kept per frame (64-9216)", DefaultValueFactory = _ => 2048 };
        var filter = new Option<string>("--filter") { Description = "Filter: tenant N, host ADDR, net ADDR/LEN, udp, tcp, icmp, port N, and, or, not, ( )" };
        var write = new Option<string>("-w") { Description = "Output pcapng file (must not exist), or - for stdout", Required = true };
        var control = new Option<string>("--control") { Description = "Control endpoint of the daemon: unix:PATH or tcp:127.0.0.1:PORT ($FASTPATH_CONTROL)" };

        var command = new Command("capture", "Capture a running daemon's port live into pcapng (one interface per direction, ns timestamps, drop reasons as comments)")
        {
            port, direction, drops, count, snaplen, filter, write, control,
        };
        command.SetAction(parse =>
        {
            long limit = parse.GetValue(count);
            if (limit < 0)
            {
                throw new UsageException("--count: must be 0 or more");
            }

            string path = parse.GetValue(write)!;
            using ControlClient client = ControlConnection.Open(parse.GetValue(control));
            using JsonDocument started = MapCommand.Call(client, "capture.start", json =>
            {
                json.WriteString("port", parse.GetValue(port));
                json.WriteString("direction", parse.GetValue(direction));
                json.WriteBoolean("drops", parse.GetValue(drops));
                json.WriteNumber("snaplen", parse.GetValue(snaplen));
                if (parse.GetValue(filter) is string text)
                {
                    json.WriteString("filter", text);
                }
            });
            int id = started.RootElement.GetProperty("result").GetProperty("id").GetInt32();

            using var stop = new CancellationTokenSource();
            using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
            long frames = 0;
            long captureDrops = 0;
            try
            {
                // A file is made new, never overwritten.
                using Stream output = path == "-" ? Console.OpenStandardOutput() : new FileStream(path, FileMode.CreateNew, FileAccess.Write);
                while (!stop.IsCancellationRequested && (limit == 0 || frames < limit))
                {
                    int max = limit == 0 ? 4096 : (int)Math.Min(4096, limit - frames);
                    using JsonDocument read = MapCommand.Call(client, "capture.read", json =>
                    {
                        json.WriteNumber("id", id);
                        json.WriteNumber("max", max);
                    });
                    JsonElement result = read.RootElement.GetProperty("result");
                    int n = result.GetProperty("frames").GetInt32();
                    captureDrops = result.GetProperty("capture_drops").GetInt64();
                    output.Write(result.GetProperty("data").GetBytesFromBase64());
                    output.Flush();
                    frames += n;
                    if (n == 0)
                    {
                        stop.Token.WaitHandle.WaitOne(s_poll);
                    }
                }
            }
            finally
            {
                try
                {
                    using JsonDocument stopped = client.Call("capture.stop", json => json.WriteNumber("id", id));
                    captureDrops = stopped.RootElement.GetProperty("result").GetProperty("capture_drops").GetInt64();
                }
                catch (ControlException)
                {
                    // Already stopped by the daemon (idle), or the daemon is gone: the counts read last stand.
                }
            }

            Console.Error.WriteLine($"fastpath: capture: {frames} frame(s), {captureDrops} capture drop(s)");
            return ExitCodes.Success;
        });
        return command;
    }
}
