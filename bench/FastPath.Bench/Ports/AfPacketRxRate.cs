using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports;

namespace FastPath.Bench.Ports;

/// <summary>
/// <c>dotnet FastPath.Bench.dll afpacket-rx IFACE SECONDS [CPU]</c>: the C# twin of the C anchor
/// <c>shared/anchors/afp_rx_v3.c</c> (not a BenchmarkDotNet suite: the kernel sets the pace, so this counts
/// frames per wall-clock second). Receives on an <see cref="AfPacketPort"/> in batches of 64, reads each frame's
/// IPv4 destination like the anchor does, prints per-second rates on stderr and one RESULT line in the anchor's
/// format (median of the per-second rates, first second skipped; PACKET_STATISTICS totals), plus the CPU time the
/// receive loop used (startup and JIT excluded), so the user-space cost per frame can be compared.
/// </summary>
internal static unsafe class AfPacketRxRate
{
    // The 64-byte packet-rate figures (bench/RESULTS.md, issue 6) were measured on the TPACKET_V3 block ring, which
    // packs hundreds of thousands of small frames (the ports' default; pinned here so that it stays so for this figure).
    private static readonly AfPacketOptions BlockRing = new() { RxRing = AfPacketRxRing.Blocks };

    private const int Batch = 64;
    private const int Capacity = 2048;

    public static int Run(string[] args)
    {
        if (args.Length < 2 || !double.TryParse(args[1], CultureInfo.InvariantCulture, out double seconds) || seconds is <= 0 or > 600)
        {
            Console.Error.WriteLine("usage: afpacket-rx IFACE SECONDS(<=600) [CPU]");
            return 2;
        }

        if (args.Length > 2)
        {
            ulong mask = 1UL << int.Parse(args[2], CultureInfo.InvariantCulture);
            Errno.Check(Libc.SchedSetaffinity(0, sizeof(ulong), &mask), "sched_setaffinity");
        }

        using var port = new AfPacketPort("rx", args[0], BlockRing);
        port.RefreshCounters(); // Starts the kernel totals from here, as the anchor does.
        byte* memory = (byte*)NativeMemory.AlignedAlloc(Batch * Capacity, 64);
        var buffers = new RxBuffer[Batch];
        var frames = new FrameView[Batch];
        for (int i = 0; i < Batch; i++)
        {
            buffers[i] = new RxBuffer(memory + (i * Capacity), Capacity);
        }

        var pollFd = new Libc.PollFd { Fd = port.ReadinessHandle, Events = LinuxConstants.PollIn };
        var perSecond = new List<double>();
        long total = 0;
        long lastTotal = 0;
        ulong sum = 0;
        long polls = 0;
        TimeSpan cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        double last = 0;
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            int count = port.Receive(buffers, frames);
            if (count == 0)
            {
                polls++;
                Libc.Poll(&pollFd, 1, 50);
            }

            for (int i = 0; i < count; i++)
            {
                if (frames[i].Length >= 34)
                {
                    sum += *(uint*)(frames[i].Data + 30);
                }
            }

            total += count;
            double now = clock.Elapsed.TotalSeconds;
            if (now - last >= 1.0)
            {
                double pps = (total - lastTotal) / (now - last);
                perSecond.Add(pps);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"t={now:0.0} pps={pps:0}"));
                last = now;
                lastTotal = total;
            }
        }

        double elapsed = clock.Elapsed.TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalSeconds;
        port.RefreshCounters();
        double median = perSecond.Count > 1 ? perSecond.Skip(1).Order().ElementAt((perSecond.Count - 1) / 2) : 0;
        Console.Out.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"RESULT iface={args[0]} secs={elapsed:0.00} pkts={total} avg_pps={total / elapsed:0} median_pps={median:0} polls={polls} kernel_tp_packets={port.Counters.KernelPackets} kernel_tp_drops={port.Counters.KernelDrops} freeze_q={port.Counters.KernelFreezes} checksum={sum} reader_cpu_s={cpu:0.000}"));
        NativeMemory.AlignedFree(memory);
        return 0;
    }
}
