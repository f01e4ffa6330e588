namespace FastPath.Dataplane.Pipeline;

/// <summary>How to open one configured port.</summary>
/// <param name="Name">Port name, as in the configuration and the counters.</param>
/// <param name="Open">Opens one instance.</param>
/// <param name="PerWorker">
/// True when every worker may open its own instance and the instances share the traffic (AF_PACKET in a
/// PACKET_FANOUT group, a generator that splits its flows, a sink); false when the port has one owner (TAP, pcap).
/// </param>
/// <param name="Mac">Own MAC (6 bytes): the source of frames the port sends.</param>
/// <param name="Peer">Peer MAC (6 bytes): the destination of frames the port sends.</param>
/// <remarks>Immutable.</remarks>
public sealed record PortPlan(string Name, PortFactory Open, bool PerWorker, byte[] Mac, byte[] Peer)
{
    /// <summary>The port never receives (a sink, a pcap output without input): no worker polls it.</summary>
    public bool TransmitOnly { get; init; }
}
