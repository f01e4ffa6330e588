namespace FastPath.Dataplane.Pipeline;

/// <summary>What <see cref="InMemoryBenchmark"/> runs: generator → workers → sink, all in memory.</summary>
/// <param name="Packets">Packets to push through, spread over the workers.</param>
/// <param name="Mappings">Mappings in the table (tenant 100, 10.0.0.0/8 ↔ 11.0.0.0/8).</param>
/// <param name="FrameSize">Frame size on the wire including FCS (64 = minimum Ethernet frame).</param>
/// <param name="Flows">Distinct 5-tuples in the traffic.</param>
/// <param name="Workers">Worker threads, one core each.</param>
/// <param name="BatchSize">Frames per RX burst.</param>
public sealed record BenchOptions(
    long Packets = BenchOptions.DefaultPackets,
    int Mappings = BenchOptions.DefaultMappings,
    int FrameSize = 64,
    int Flows = BenchOptions.DefaultMappings,
    int Workers = 1,
    int BatchSize = BenchOptions.DefaultBatchSize)
{
    /// <summary>Enough packets for a few seconds at the rates this runs at, so start-up costs vanish in the average.</summary>
    public const long DefaultPackets = 100_000_000;

    /// <summary>Frames per RX burst unless told otherwise (a worker's default).</summary>
    public const int DefaultBatchSize = Worker.DefaultBatchSize;

    /// <summary>One million mappings: a table well beyond the caches (the headline case).</summary>
    public const int DefaultMappings = 1_000_000;
}
