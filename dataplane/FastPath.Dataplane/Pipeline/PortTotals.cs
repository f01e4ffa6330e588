namespace FastPath.Dataplane.Pipeline;

/// <summary>One port's traffic summed over its instances, as totals since it opened.</summary>
/// <param name="Name">Port name.</param>
/// <param name="Side">Side the port faces.</param>
/// <param name="Instances">Open instances (one per worker for fanned-out ports).</param>
/// <param name="RxPackets">Frames received.</param>
/// <param name="RxBytes">Bytes received.</param>
/// <param name="TxPackets">Frames sent.</param>
/// <param name="TxBytes">Bytes sent.</param>
/// <param name="KernelDrops">Frames the kernel dropped before FastPath saw them (AF_PACKET ring full), 0 for other kinds.</param>
public readonly record struct PortTotals(
    string Name, PortSide Side, int Instances, long RxPackets, long RxBytes, long TxPackets, long TxBytes, long KernelDrops)
{
    /// <summary>Frames the port took but could not write out (a pcap output whose reader went away: EPIPE), see <see cref="Ports.PortCounters.TxErrors"/>.</summary>
    public long TxErrors { get; init; }
}
