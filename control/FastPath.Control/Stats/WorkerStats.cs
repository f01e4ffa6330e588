namespace FastPath.Control.Stats;

/// <summary>One worker's totals, drops per reason and rates.</summary>
/// <param name="Id">Worker number.</param>
/// <param name="Core">Core it is pinned to, or -1.</param>
/// <param name="RxPackets">Frames received.</param>
/// <param name="RxBytes">Bytes received.</param>
/// <param name="TxPackets">Frames sent.</param>
/// <param name="TxBytes">Bytes sent.</param>
/// <param name="Drops">Drops indexed by <see cref="Dataplane.DropReason"/>.</param>
/// <param name="Busy">Fraction of the last interval spent on non-empty batches (0-1).</param>
/// <param name="Rates">Per-second rates over the last interval.</param>
public sealed record WorkerStats(int Id, int Core, long RxPackets, long RxBytes, long TxPackets, long TxBytes, long[] Drops, double Busy, Rates Rates)
{
    /// <summary>Batch service times (receive → last transmit), or null when not read.</summary>
    public Dataplane.Pipeline.LatencySnapshot? BatchLatency { get; init; }
}
