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
/// <param name="WorkerCpuSeconds">CPU time the worker threads consumed, summed.</param>
public sealed record BenchResult(BenchOptions Options, long Packets, long Transmitted, long Drops, double Seconds, double TableBuildSeconds,
    IReadOnlyList<int> WorkerCores, long AllocatedBytesInLoop, double WorkerCpuSeconds)
{
    /// <summary>Worker CPU nanoseconds per packet: the cost per packet on one core, whatever else shared the cores.</summary>
    public double CpuNanosecondsPerPacket => WorkerCpuSeconds * 1e9 / Packets;

    /// <summary>Packets per second one fully available core would do at <see cref="CpuNanosecondsPerPacket"/>, in millions.</summary>
    public double MppsPerCore => 1e3 / CpuNanosecondsPerPacket;

    /// <summary>Share of the wall time the workers were on a CPU (1 per worker when nothing else competed).</summary>
    public double WorkerCpuShare => WorkerCpuSeconds / Seconds / Options.Workers;

    /// <summary>Millions of packets per second over all workers.</summary>
    public double Mpps => Packets / Seconds / 1e6;

    /// <summary>Wall nanoseconds per packet over all workers (per worker: multiply by the worker count).</summary>
    public double NanosecondsPerPacket => Seconds * 1e9 / Packets;
}
