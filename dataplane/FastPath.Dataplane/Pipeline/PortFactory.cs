using FastPath.Dataplane.Ports;

namespace FastPath.Dataplane.Pipeline;

/// <summary>Opens the instance of a port that worker <paramref name="worker"/> of <paramref name="workers"/> owns.</summary>
/// <remarks>
/// This is the hook for every kind of port, guest channels included: the builder only needs something that
/// receives and transmits in bursts, so a new port kind adds a factory, not a builder change.
/// </remarks>
public delegate PacketPort PortFactory(int worker, int workers);
