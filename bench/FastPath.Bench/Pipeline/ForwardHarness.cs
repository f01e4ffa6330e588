using System.Diagnostics;
using System.Globalization;
using System.Net;
using FastPath.Dataplane;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Bench.Pipeline;

/// <summary>
/// The FastPath side of <c>tools/lab/kernel-compare.sh</c>: one pinned worker forwarding between two AF_PACKET
/// ports with the same 1:1 maps the kernel anchor's nftables rules use (dmap 198.18.100.X → 198.19.0.X, smap
/// 198.18.0.1 → 198.19.200.1, all tenant 0), for a fixed time; prints the worker's counters as one line.
/// </summary>
/// <remarks>
/// usage: <c>forward USER_IF SECURE_IF USER_PEER_MAC SECURE_PEER_MAC SECONDS CPU [BATCH]</c>. Not a BenchmarkDotNet
/// suite: the packets come from another process through the kernel, so the figure is packets per second at the sink.
/// </remarks>
internal static class ForwardHarness
{
    // The 64-byte packet-rate figures (bench/RESULTS.md, issue 6) were measured on the TPACKET_V3 block ring, which
    // packs hundreds of thousands of small frames (the ports' default; pinned here so that it stays so for this figure).
    private static readonly AfPacketOptions BlockRing = new() { RxRing = AfPacketRxRing.Blocks };

    public static int Run(string[] args)
    {
        if (args.Length < 6)
        {
            Console.Error.WriteLine("usage: forward USER_IF SECURE_IF USER_PEER_MAC SECURE_PEER_MAC SECONDS CPU [BATCH]");
            return 2;
        }

        double seconds = double.Parse(args[4], CultureInfo.InvariantCulture);
        int cpu = int.Parse(args[5], CultureInfo.InvariantCulture);
        int batch = args.Length > 6 ? int.Parse(args[6], CultureInfo.InvariantCulture) : Worker.DefaultBatchSize;

        using var table = new MappingTable(512);
        table.Add(MappingEntry.Create(0, IPAddress.Parse("198.18.0.1"), IPAddress.Parse("198.19.200.1")));
        for (int x = 1; x <= 254; x++)
        {
            table.Add(MappingEntry.Create(0, IPAddress.Parse($"198.18.100.{x}"), IPAddress.Parse($"198.19.0.{x}")));
        }

        using var user = new AfPacketPort("user", args[0], BlockRing);
        using var secure = new AfPacketPort("secure", args[1], BlockRing);
        user.SetMacs(user.Mac, Mac(args[2]));
        secure.SetMacs(secure.Mac, Mac(args[3]));
        using var counters = new Counters(1);
        using var pool = new FramePool(1024);
        var toSecure = new TranslationStage(table, TranslationDirection.UserToSecure, EgressMacs.Create(secure.Mac, secure.PeerMac));
        var toUser = new TranslationStage(table, TranslationDirection.SecureToUser, EgressMacs.Create(user.Mac, user.PeerMac));
        CorePinning.MoveOtherThreadsOff([cpu]);
        using var worker = new Worker(0, cpu, [new PortBinding(user, toSecure, secure), new PortBinding(secure, toUser, user)], pool, counters, batch);
        worker.Start();
        var clock = Stopwatch.StartNew();
        WorkerCounters start = counters.Read(0);
        Thread.Sleep(TimeSpan.FromSeconds(seconds));
        WorkerCounters end = counters.Read(0);
        double elapsed = clock.Elapsed.TotalSeconds;
        worker.Stop();
        worker.Join();

        long drops = 0;
        foreach (DropReason reason in DropReasons.All)
        {
            drops += Counters.Dropped(end, reason) - Counters.Dropped(start, reason);
        }

        double busy = (end.BusyTicks - start.BusyTicks) / (double)Stopwatch.Frequency / elapsed;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT fastpath rx_pps={(end.RxPackets - start.RxPackets) / elapsed:F0} tx_pps={(end.TxPackets - start.TxPackets) / elapsed:F0} drops_pps={drops / elapsed:F0} worker_busy={busy:F3} batches={end.Batches - start.Batches} tx_full={Counters.Dropped(end, DropReason.TxFull)} kernel_rx_drops={KernelDrops(user)}"));
        return 0;
    }

    private static long KernelDrops(AfPacketPort port)
    {
        port.RefreshCounters();
        return port.Counters.KernelDrops;
    }

    private static byte[] Mac(string text) => Convert.FromHexString(text.Replace(":", string.Empty, StringComparison.Ordinal));
}
