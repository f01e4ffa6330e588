using System.Buffers.Binary;
using System.Diagnostics;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Dataplane.Pipeline;

/// <summary>
/// <c>fastpath bench</c>: the real workers, translation stage and mapping table between an in-memory generator and
/// sink, with no setup — what a user runs first to see what the data plane does on their machine.
/// </summary>
/// <remarks>
/// Each worker gets its own generator (its RSS share of the flows) and sink, like a NIC queue pair; workers are
/// pinned to the last cores the process may use, and every other thread of the process is moved off those cores
/// first (<see cref="CorePinning.MoveOtherThreadsOff"/>). Not thread-safe: one run at a time per caller.
/// </remarks>
public static class InMemoryBenchmark
{
    private static readonly byte[] s_sinkMac = [0x02, 0, 0, 0, 0x02, 0x01];
    private static readonly byte[] s_peerMac = [0x02, 0, 0, 0, 0x02, 0x02];

    /// <summary>Runs <paramref name="options"/>; <paramref name="progress"/> is called about ten times a second with packets done so far.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static BenchResult Run(BenchOptions options, Action<long>? progress = null)
    {
        Validate(options);
        var build = Stopwatch.StartNew();
        using MappingTable table = BuildTable(options.Mappings);
        double buildSeconds = build.Elapsed.TotalSeconds;

        int[] allowed = CorePinning.AllowedCpus();
        int[] cores = PickCores(allowed, options.Workers);
        using var counters = new Counters(options.Workers);
        using var pool = new FramePool((uint)(options.Workers * options.BatchSize + 64));
        var ports = new List<PacketPort>();
        var workers = new List<Worker>();
        try
        {
            var egress = EgressMacs.Create(s_sinkMac, s_peerMac);
            for (int w = 0; w < options.Workers; w++)
            {
                long share = options.Packets / options.Workers + (w < options.Packets % options.Workers ? 1 : 0);
                var generator = new GeneratorPort($"gen{w}", new GeneratorSpec(options.FrameSize, options.Flows, options.Mappings), w, options.Workers, share);
                var sink = new SinkPort($"sink{w}");
                ports.Add(generator);
                ports.Add(sink);
                var stage = new TranslationStage(table, TranslationDirection.UserToSecure, egress);
                workers.Add(new Worker(w, cores[w], [new PortBinding(generator, stage, sink)], pool, counters, options.BatchSize, share));
            }

            if (cores[0] >= 0)
            {
                CorePinning.MoveOtherThreadsOff(cores);
            }

            var clock = Stopwatch.StartNew();
            foreach (Worker worker in workers)
            {
                worker.Start();
            }

            while (!workers.TrueForAll(w => w.Finished))
            {
                Thread.Sleep(100);
                progress?.Invoke(counters.Total().RxPackets);
            }

            double seconds = clock.Elapsed.TotalSeconds;
            long allocated = 0;
            double cpu = 0;
            foreach (Worker worker in workers)
            {
                worker.Join();
                allocated += worker.AllocatedBytesInLoop;
                cpu += worker.CpuSecondsInLoop;
            }

            WorkerCounters total = counters.Total();
            long drops = 0;
            foreach (DropReason reason in DropReasons.All)
            {
                drops += Counters.Dropped(total, reason);
            }

            progress?.Invoke(total.RxPackets);
            return new BenchResult(options, total.RxPackets, total.TxPackets, drops, seconds, buildSeconds, cores, allocated, cpu);
        }
        finally
        {
            if (cores[0] >= 0)
            {
                CorePinning.ReleaseAll(allowed);
            }

            foreach (Worker worker in workers)
            {
                worker.Dispose();
            }

            foreach (PacketPort port in ports)
            {
                port.Dispose();
            }
        }
    }

    /// <summary>The benchmark's table: mapping i is (100, 10.0.0.0 + i) ↔ 11.0.0.0 + i.</summary>
    internal static MappingTable BuildTable(int mappings)
    {
        var entries = new MappingEntry[mappings];
        Span<byte> user = stackalloc byte[4];
        Span<byte> secure = stackalloc byte[4];
        for (int i = 0; i < mappings; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(user, GeneratorSpec.UserAddress(i));
            BinaryPrimitives.WriteUInt32BigEndian(secure, GeneratorSpec.SecureAddress(i));
            entries[i] = new MappingEntry(MappingKey.FromBytes(GeneratorSpec.DefaultTenant, user), MappingKey.FromBytes(0, secure));
        }

        var table = new MappingTable(mappings);
        MappingImportResult result = table.Import(entries);
        Debug.Assert(result.Succeeded, "the address plan is 1:1 by construction");
        return table;
    }

    private static int[] PickCores(int[] allowed, int workers)
    {
        if (workers > allowed.Length)
        {
            // More workers than cores: pinning would stack them; let the scheduler share the cores instead.
            return Enumerable.Repeat(-1, workers).ToArray();
        }

        // The last cores: core 0 usually takes the machine's interrupts and housekeeping.
        return allowed[^workers..];
    }

    private static void Validate(BenchOptions options)
    {
        if (options.Packets <= 0)
        {
            throw new ArgumentException($"--packets must be positive (got {options.Packets})");
        }

        if (options.Mappings is <= 0 or > GeneratorSpec.MaxMappings)
        {
            throw new ArgumentException($"--mappings must be 1-{GeneratorSpec.MaxMappings} (got {options.Mappings})");
        }

        if (options.FrameSize is < 64 or > 9004)
        {
            throw new ArgumentException($"--size must be 64-9004 bytes (got {options.FrameSize})");
        }

        if (options.Flows < options.Workers || options.Flows <= 0)
        {
            throw new ArgumentException($"--flows must be at least the number of workers (got {options.Flows})");
        }

        if (options.Workers is <= 0 or > MappingEpoch.MaxReaders)
        {
            throw new ArgumentException($"--workers must be 1-{MappingEpoch.MaxReaders} (got {options.Workers})");
        }

        if (options.BatchSize is <= 0 or > TranslationStage.MaxBatch)
        {
            throw new ArgumentException($"--batch must be 1-{TranslationStage.MaxBatch} (got {options.BatchSize})");
        }
    }
}
