using System.CommandLine;
using System.Net.Sockets;
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
            string? ended = null; // why the capture ended early, if it did
            int code = ExitCodes.Success;
            try
            {
                // A file is made new, never overwritten.
                // Standard output as a plain file descriptor: .NET's console stream swallows EPIPE, and a capture into
                // `| head` must see its reader leave.
                using Stream output = path == "-"
                    ? new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0)
                    : new FileStream(path, FileMode.CreateNew, FileAccess.Write);
                while (!stop.IsCancellationRequested && (limit == 0 || frames < limit))
                {
                    int max = limit == 0 ? 4096 : (int)Math.Min(4096, limit - frames);
                    JsonDocument read;
                    try
                    {
                        read = MapCommand.Call(client, "capture.read", json =>
                        {
                            json.WriteNumber("id", id);
                            json.WriteNumber("max", max);
                        });
                    }
                    catch (Exception error) when (error is IOException or SocketException or ControlException { Code: "unreachable" or "protocol" })
                    {
                        // What was written so far is whole pcapng blocks: the file stays readable.
                        ended = "the daemon closed the connection (stopped?)";
                        code = ExitCodes.Failure;
                        break;
                    }

                    using (read)
                    {
                        JsonElement result = read.RootElement.GetProperty("result");
                        int n = result.GetProperty("frames").GetInt32();
                        captureDrops = result.GetProperty("capture_drops").GetInt64();
                        try
                        {
                            output.Write(result.GetProperty("data").GetBytesFromBase64());
                            output.Flush();
                        }
                        catch (IOException)
                        {
                            // `-w - | head`: the reader left, as with tcpdump the capture simply ends.
                            ended = "the output was closed";
                            break;
                        }

                        frames += n;
                        if (n == 0)
                        {
                            stop.Token.WaitHandle.WaitOne(s_poll);
                        }
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
                catch (Exception error) when (error is ControlException or IOException or SocketException)
                {
                    // Already stopped by the daemon (idle), or the daemon is gone: the counts read last stand.
                }
            }

            Console.Error.WriteLine($"fastpath: capture: {frames} frame(s), {captureDrops} capture drop(s){(ended is null ? string.Empty : "; " + ended)}");
            return code;
        });
        return command;
    }
}
