using System.Buffers.Binary;
using System.Diagnostics;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Ports;

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
        var spec = new GeneratorSpec(options.FrameSize, options.Flows, options.Mappings);
        long packets = options.Packets;
        int workers = options.Workers;

        // One fanned-out pair, as a NIC's queue pairs: each worker gets its own generator (its RSS share of the flows
        // and of the packets) and its own sink, which never receives.
        var generator = new PortPlan("gen", (w, n) => new GeneratorPort($"gen{w}", spec, w, n, PipelineBuilder.Share(packets, w, n)),
            PerWorker: true, s_peerMac, s_sinkMac);
        var sink = new PortPlan("sink", (w, _) => new SinkPort($"sink{w}"), PerWorker: true, s_sinkMac, s_peerMac) { TransmitOnly = true };
        try
        {
            using RunningPipeline pipeline = new PipelineBuilder(table)
                .WithCores(cores)
                .WithBatchSize(options.BatchSize)
                .WithPacketLimit(packets)
                .AddPair(generator, sink)
                .Build();
            if (cores[0] >= 0)
            {
                CorePinning.MoveOtherThreadsOff(cores);
            }

            var clock = Stopwatch.StartNew();
            pipeline.Start();
            while (!pipeline.Finished)
            {
                Thread.Sleep(100);
                progress?.Invoke(pipeline.Counters.Total().RxPackets);
            }

            double seconds = clock.Elapsed.TotalSeconds;
            if (pipeline.Stop(TimeSpan.Zero, TimeSpan.Zero) is Exception failure)
            {
                throw new InvalidOperationException(failure.Message, failure);
            }

            WorkerCounters total = pipeline.Counters.Total();
            long drops = 0;
            foreach (DropReason reason in DropReasons.All)
            {
                drops += Counters.Dropped(total, reason);
            }

            progress?.Invoke(total.RxPackets);
            return new BenchResult(options, total.RxPackets, total.TxPackets, drops, seconds, buildSeconds, cores, pipeline.AllocatedBytesInLoop, pipeline.CpuSecondsInLoop);
        }
        finally
        {
            if (cores[0] >= 0)
            {
                CorePinning.ReleaseAll(allowed);
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
