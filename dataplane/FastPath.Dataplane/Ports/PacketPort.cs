using FastPath.Dataplane.Parsing;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// The one small interface every port implements: burst receive into caller frames, burst transmit from caller
/// frames. Dispatch through it happens once per batch, never per packet.
/// </summary>
/// <remarks>
/// Concurrency: one port instance (or queue) belongs to one worker thread; <see cref="Receive"/> and
/// <see cref="Transmit"/> are called from that thread only. Counters may be read from any thread.
/// </remarks>
public abstract unsafe class PacketPort : IDisposable
{
    private readonly byte[] _mac = new byte[6];
    private readonly byte[] _peer = new byte[6];

    /// <summary>Creates a port named <paramref name="name"/>.</summary>
    protected PacketPort(string name) => Name = name;

    /// <summary>The port's name in the configuration and the counters.</summary>
    public string Name { get; }

    /// <summary>The port's own MAC: the source MAC of frames it sends.</summary>
    public ReadOnlySpan<byte> Mac => _mac;

    /// <summary>The peer's MAC: the destination MAC of frames it sends.</summary>
    public ReadOnlySpan<byte> PeerMac => _peer;

    /// <summary>A file descriptor to poll(2) for input when idle, or -1 for ports that are never waited on.</summary>
    public virtual int PollHandle => -1;

    /// <summary>
    /// Copies up to <c>buffers.Length</c> received frames into the caller's buffers without blocking, writes their
    /// lengths into <paramref name="lengths"/> and returns how many arrived.
    /// </summary>
    public abstract int Receive(ReadOnlySpan<RxBuffer> buffers, Span<int> lengths);

    /// <summary>Sends as many of <paramref name="frames"/> as the port accepts now, in order; returns that count.</summary>
    /// <remarks>The frames' memory is the caller's again when this returns.</remarks>
    public abstract int Transmit(ReadOnlySpan<FrameView> frames);

    /// <summary>Sets the MACs used as egress addresses (ARCHITECTURE.md: source = own MAC, destination = peer).</summary>
    public void SetMacs(ReadOnlySpan<byte> mac, ReadOnlySpan<byte> peer)
    {
        if (mac.Length != 6 || peer.Length != 6)
        {
            throw new ArgumentException("a MAC address has 6 bytes");
        }

        mac.CopyTo(_mac);
        peer.CopyTo(_peer);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the port's kernel objects.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
