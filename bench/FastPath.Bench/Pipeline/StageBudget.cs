using System.Diagnostics;
using System.Globalization;
using FastPath.Dataplane;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Bench.Pipeline;

/// <summary>
/// The per-stage cycle budget of <c>fastpath bench</c> (issue 18): the worker's batch loop rebuilt stage by stage
/// with a timestamp between stages, over the same generator, table, stage and sink the benchmark uses.
/// </summary>
/// <remarks>
/// usage: <c>stages [MAPPINGS] [FLOWS] [PACKETS] [BATCH]</c> (defaults 1000000 1000000 20000000 64). Method: one
/// <see cref="Stopwatch.GetTimestamp"/> (vDSO clock_gettime, ~30 ns) between stages, once per batch, so a 64-frame
/// batch pays ~0.5 ns per packet per stage; two back-to-back reads measure it and it is subtracted from each row.
/// Alternate batches run with and without egress MACs, which splits "rewrite + checksums + VLAN pop" from "MACs";
/// the VLAN pop alone is a separate loop (see <see cref="VlanPopNanoseconds"/>). Every fourth batch runs
/// <see cref="TranslationStage.Process"/> in one piece as the worker does, without the inner timestamps: its row
/// says what splitting the stages cost. The worker's own loop overhead (counters, verdict walk, epoch, virtual
/// port calls) is not here: it is whole-worker thread CPU from <c>fastpath bench</c> minus this sum (RESULTS.md).
/// Each row is the median batch time over the frames of a batch (preempted batches fall out of the median).
/// Cycles = ns × the TSC rate in /proc/cpuinfo. Not a BenchmarkDotNet suite: the stages feed each other.
/// </remarks>
internal static unsafe class StageBudget
{
    private const int Headroom = 64;

    public static int Run(string[] args)
    {
        int mappings = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        int flows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
        long packets = args.Length > 2 ? long.Parse(args[2], CultureInfo.InvariantCulture) : 20_000_000;
        int batch = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : Worker.DefaultBatchSize;
        if (batch is <= 0 or > TranslationStage.MaxBatch || mappings is <= 0 or > GeneratorSpec.MaxMappings || flows <= 0 || packets <= 0)
        {
            Console.Error.WriteLine("usage: stages [MAPPINGS 1-16M] [FLOWS] [PACKETS] [BATCH 1-256]");
            return 2;
        }

        using MappingTable table = InMemoryBenchmark.BuildTable(mappings);
        using var pool = new FramePool((uint)batch + 8);
        var indices = new uint[batch];
        if (!pool.TryAllocateBulk(indices))
        {
            return 1;
        }

        var rx = new RxBuffer[batch];
        for (int i = 0; i < batch; i++)
        {
            rx[i] = new RxBuffer(pool.Payload(indices[i]) + Headroom, pool.PayloadSlotSize - Headroom);
        }

        byte[] sinkMac = [0x02, 0, 0, 0, 0x02, 0x01];
        byte[] peerMac = [0x02, 0, 0, 0, 0x02, 0x02];
        var withMacs = new TranslationStage(table, TranslationDirection.UserToSecure, EgressMacs.Create(sinkMac, peerMac));
        var noMacs = new TranslationStage(table, TranslationDirection.UserToSecure, null);
        using var generator = new GeneratorPort("gen", new GeneratorSpec(64, flows, mappings), 0, 1, long.MaxValue);
        using var sink = new SinkPort("sink");
        var frames = new FrameView[batch];
        var meta = new PacketMeta[batch];
        int reader = table.Epoch.RegisterReader();
        try
        {
            // Stage order: 0 generator, 1 parse, 2 keys, 3 lookups, 4 rewrite (+VLAN, with MACs), 5 rewrite without MACs, 6 TX/sink, 7 timer, 8 whole batch.
            long batches = packets / batch;
            var samples = new Samples(9, (int)Math.Min(batches, 4_000_000));
            for (int warm = 0; warm < 2; warm++)
            {
                samples.Clear();
                for (long b = 0; b < (warm == 0 ? Math.Min(batches, 20_000) : batches); b++)
                {
                    bool macs = (b & 1) == 0;
                    TranslationStage stage = macs ? withMacs : noMacs;
                    long t0 = Stopwatch.GetTimestamp();
                    int n = generator.Receive(rx, frames);
                    long t1 = Stopwatch.GetTimestamp();
                    if ((b & 3) == 3)
                    {
                        // Every fourth batch goes through Process in one piece, as the worker runs it.
                        withMacs.Process(frames.AsSpan(0, n), meta.AsSpan(0, n));
                        long tw = Stopwatch.GetTimestamp();
                        samples.Add(8, tw - t1, n);
                        samples.Add(0, t1 - t0, n);
                        _ = sink.Transmit(frames.AsSpan(0, n), meta.AsSpan(0, n));
                        table.Epoch.Quiescent(reader);
                        continue;
                    }

                    HeaderParser.Parse(frames.AsSpan(0, n), meta.AsSpan(0, n));
                    long t2 = Stopwatch.GetTimestamp();
                    int pending = stage.CollectKeysForBudget(frames.AsSpan(0, n), meta.AsSpan(0, n));
                    long t3 = Stopwatch.GetTimestamp();
                    stage.LookupForBudget(pending);
                    long t4 = Stopwatch.GetTimestamp();
                    stage.RewriteForBudget(frames.AsSpan(0, n), meta.AsSpan(0, n), pending);
                    long t5 = Stopwatch.GetTimestamp();
                    int sent = sink.Transmit(frames.AsSpan(0, n), meta.AsSpan(0, n));
                    long t6 = Stopwatch.GetTimestamp();
                    long t7 = Stopwatch.GetTimestamp();
                    if (sent != n || meta[0].Verdict != DropReason.None)
                    {
                        Console.Error.WriteLine($"batch {b}: {n} frames, {sent} sent, verdict {meta[0].Verdict}");
                        return 1;
                    }

                    samples.Add(0, t1 - t0, n);
                    samples.Add(1, t2 - t1, n);
                    samples.Add(2, t3 - t2, n);
                    samples.Add(3, t4 - t3, n);
                    samples.Add(macs ? 4 : 5, t5 - t4, n);
                    samples.Add(6, t6 - t5, n);
                    samples.Add(7, t7 - t6, n);
                    table.Epoch.Quiescent(reader);
                }
            }

            double vlan = VlanPopNanoseconds();
            Report(samples, vlan, mappings, flows, packets, batch);
            return 0;
        }
        finally
        {
            table.Epoch.UnregisterReader(reader);
            pool.FreeBulk(indices);
        }
    }

    // One frame, tag pushed and popped 10M times in rounds of 50,000: the VLAN work of the rewrite loop without its
    // neighbours; the median round, so a preemption does not count. Each pop reads what the push just wrote, a
    // dependency chain the rewrite loop does not have (there a pop follows the parser's reads), so this is an upper bound.
    private static double VlanPopNanoseconds()
    {
        byte* buffer = stackalloc byte[128];
        new Span<byte>(buffer, 128).Clear();
        byte* frame = buffer + 16;
        int length = 60;
        PacketMeta meta = HeaderParser.ParseOne(new ReadOnlySpan<byte>(frame, length));
        const int Rounds = 200;
        const int PerRound = 50_000;
        var rounds = new long[Rounds];
        for (int r = 0; r < Rounds; r++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < PerRound; i++)
            {
                frame = VlanTag.Push(frame, ref length, ref meta, 100);
                frame = VlanTag.Pop(frame, ref length, ref meta);
            }

            rounds[r] = Stopwatch.GetTimestamp() - start;
        }

        Array.Sort(rounds);
        return rounds[Rounds / 2] * (1e9 / Stopwatch.Frequency) / PerRound / 2;
    }

    private static void Report(Samples samples, double vlan, int mappings, int flows, long packets, int batch)
    {
        double ghz = Mapping.TscCyclesColumn.ReadTscGhz();
        double timer = samples.MedianNs(7);
        double rewriteMacs = samples.MedianNs(4) - timer;
        double rewriteBare = samples.MedianNs(5) - timer;
        double macs = Math.Max(0, rewriteMacs - rewriteBare);
        (string Name, double Ns)[] rows =
        [
            ("generator frame build", samples.MedianNs(0) - timer),
            ("parse", samples.MedianNs(1) - timer),
            ("key collection (+TTL check)", samples.MedianNs(2) - timer),
            ("lookups (2 bulk)", samples.MedianNs(3) - timer),
            ("rewrite + checksums + VLAN pop", rewriteBare),
            ("  of which VLAN pop (isolated, upper bound)", vlan),
            ("MACs (with-MACs minus without)", macs),
            ("TX/sink", samples.MedianNs(6) - timer),
        ];
        Console.WriteLine($"stage budget: {mappings} mappings, {flows} flows, {packets} packets, batch {batch}, TSC {ghz:F3} GHz, load {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.WriteLine("| stage | ns/pkt | cycles/pkt |");
        Console.WriteLine("|---|---|---|");
        double sum = 0;
        foreach ((string name, double ns) in rows)
        {
            if (!name.StartsWith(' '))
            {
                sum += ns;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {ns:F1} | {ns * ghz:F0} |"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| sum of stages | {sum:F1} | {sum * ghz:F0} |"));
        double whole = samples.MedianNs(8) + samples.MedianNs(0) - timer + samples.MedianNs(6) - timer;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| generator + Process in one piece + sink | {whole:F1} | {whole * ghz:F0} |"));
        // The mean, not the median, is what a worker's CPU time per packet adds up to: batches that wait on more DRAM
        // misses than the typical one count here and fall out of the median.
        double wholeMean = samples.MeanNs(8) + samples.MeanNs(0) + samples.MeanNs(6) - (2 * timer);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| the same, mean of all batches | {wholeMean:F1} | {wholeMean * ghz:F0} |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| (timer read, subtracted above) | {timer:F1} | {timer * ghz:F0} |"));
    }

    /// <summary>Per-stage batch times; the median per batch is robust to the preemptions of a shared machine, which
    /// land whole milliseconds in whichever stage was running.</summary>
    private sealed class Samples(int stages, int capacity)
    {
        private readonly long[][] _ticks = [.. Enumerable.Range(0, stages).Select(_ => new long[capacity])];
        private readonly int[] _count = new int[stages];
        private readonly int[] _frames = new int[stages];

        public void Clear() => Array.Clear(_count);

        public void Add(int stage, long ticks, int frames)
        {
            int i = _count[stage];
            if (i < capacity)
            {
                _ticks[stage][i] = ticks;
                _count[stage] = i + 1;
                _frames[stage] = frames;
            }
        }

        public double MeanNs(int stage)
        {
            int n = _count[stage];
            if (n == 0)
            {
                return 0;
            }

            long sum = 0;
            foreach (long ticks in _ticks[stage].AsSpan(0, n))
            {
                sum += ticks;
            }

            return (double)sum / n * (1e9 / Stopwatch.Frequency) / _frames[stage];
        }

        public double MedianNs(int stage)
        {
            int n = _count[stage];
            if (n == 0)
            {
                return 0;
            }

            Span<long> values = _ticks[stage].AsSpan(0, n);
            values.Sort();
            return values[n / 2] * (1e9 / Stopwatch.Frequency) / _frames[stage];
        }
    }
}
