using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports;

namespace FastPath.Bench.Ports;

/// <summary>
/// <c>dotnet FastPath.Bench.dll afpacket-tx IFACE COUNT ring|mmsg DST_MAC</c>: the C# twin of the C anchor
/// <c>shared/anchors/afp_tx.c</c>: one 60-byte IPv4/UDP frame sent COUNT times in batches of 64 through an
/// <see cref="AfPacketPort"/>, with its TPACKET_V3 TX ring or with sendmmsg(2), to decide which one the port keeps.
/// Prints one RESULT line with the sender's own rate (frames accepted / time, the TX ring drained at the end).
/// </summary>
internal static unsafe class AfPacketTxRate
{
    private const int Batch = 64;

    public static int Run(string[] args)
    {
        if (args.Length < 4 || !long.TryParse(args[1], CultureInfo.InvariantCulture, out long count) || count < 1 || args[2] is not ("ring" or "mmsg"))
        {
            Console.Error.WriteLine("usage: afpacket-tx IFACE COUNT ring|mmsg DST_MAC");
            return 2;
        }

        byte[] destinationMac = args[3].Split(':').Select(p => byte.Parse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
        using var port = new AfPacketPort("tx", args[0], new AfPacketOptions { Receive = false, UseSendmmsg = args[2] == "mmsg" });
        byte* frame = (byte*)NativeMemory.AlignedAlloc(64, 64);
        int length = UdpFrameBuilder.Write(new Span<byte>(frame, 64), port.Mac, destinationMac, 0, [198, 18, 0, 1], [198, 18, 0, 2], 1024, 9, 18);
        var views = new FrameView[Batch];
        Array.Fill(views, new FrameView(frame, length));

        long sent = 0;
        long full = 0;
        var clock = Stopwatch.StartNew();
        while (sent < count)
        {
            int accepted = port.Transmit(views.AsSpan(0, (int)Math.Min(Batch, count - sent)));
            sent += accepted;
            if (accepted == 0)
            {
                full++;
                Thread.Yield();
            }
        }

        port.Flush(TimeSpan.FromSeconds(10));
        double seconds = clock.Elapsed.TotalSeconds;
        Console.Out.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"RESULT iface={args[0]} mode={args[2]} sent={port.Counters.TxPackets} secs={seconds:0.00} pps={port.Counters.TxPackets / seconds:0} full_batches={full} tx_errors={port.Counters.TxErrors}"));
        NativeMemory.AlignedFree(frame);
        return 0;
    }
}
