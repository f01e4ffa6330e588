namespace FastPath.Control.Stats;

/// <summary>One port's totals and its rates over the last sampling interval.</summary>
/// <param name="Name">Port name.</param>
/// <param name="Side"><c>user</c> or <c>secure</c>.</param>
/// <param name="Instances">Open instances (one per worker for fanned-out ports).</param>
/// <param name="RxPackets">Frames received.</param>
/// <param name="RxBytes">Bytes received.</param>
/// <param name="TxPackets">Frames sent.</param>
/// <param name="TxBytes">Bytes sent.</param>
/// <param name="KernelDrops">Frames the kernel dropped before FastPath saw them.</param>
/// <param name="Rates">Per-second rates over the last interval.</param>
public sealed record PortStats(string Name, string Side, int Instances, long RxPackets, long RxBytes, long TxPackets, long TxBytes, long KernelDrops, Rates Rates)
{
    /// <summary>Frames the port took but could not write out (its output failed, e.g. a pcap FIFO whose reader left).</summary>
    public long TxErrors { get; init; }
}
