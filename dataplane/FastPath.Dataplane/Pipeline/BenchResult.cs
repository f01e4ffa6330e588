namespace FastPath.Dataplane.Pipeline;

/// <summary>The outcome of an <see cref="InMemoryBenchmark"/> run.</summary>
/// <param name="Options">What ran.</param>
/// <param name="Packets">Packets the workers received.</param>
/// <param name="Transmitted">Packets the sinks accepted.</param>
/// <param name="Drops">Packets dropped, all reasons.</param>
/// <param name="Seconds">Wall time from the workers' start to the last worker's finish.</param>
/// <param name="TableBuildSeconds">Time to build the mapping table (not part of <paramref name="Seconds"/>).</param>
/// <param name="WorkerCores">Core of each worker (-1 when not pinned).</param>
/// <param name="AllocatedBytesInLoop">Bytes the workers' loops allocated after warm-up, summed (0 is the contract).</param>
public sealed record BenchResult(BenchOptions Options, long Packets, long Transmitted, long Drops, double Seconds, double TableBuildSeconds,
    IReadOnlyList<int> WorkerCores, long AllocatedBytesInLoop)
{
    /// <summary>Millions of packets per second over all workers.</summary>
    public double Mpps => Packets / Seconds / 1e6;

    /// <summary>Wall nanoseconds per packet over all workers (per worker: multiply by the worker count).</summary>
    public double NanosecondsPerPacket => Seconds * 1e9 / Packets;
}
