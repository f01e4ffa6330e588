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
    private int _disposed;

    /// <summary>Creates a port named <paramref name="name"/>.</summary>
    protected PacketPort(string name) => Name = name;

    /// <summary>The port's name in the configuration and the counters.</summary>
    public string Name { get; }

    /// <summary>The port's own MAC: the source MAC of frames it sends.</summary>
    public ReadOnlySpan<byte> Mac => _mac;

    /// <summary>The peer's MAC: the destination MAC of frames it sends.</summary>
    public ReadOnlySpan<byte> PeerMac => _peer;

    /// <summary>What the port received, sent and refused; every port counts here, so readers never need its type.</summary>
    public PortCounters Counters { get; } = new();

    /// <summary>
    /// Receives up to <c>buffers.Length</c> frames without blocking and describes each in <paramref name="frames"/>
    /// (start, length, offload work); returns how many arrived. Frame <c>i</c> lies in <c>buffers[i]</c>, or in memory
    /// the port owns (its receive ring, say) that stays valid and writable, and private to this process, until the
    /// port's next <see cref="Receive"/>. Either way at least 4 writable bytes precede each frame, for a VLAN push.
    /// </summary>
    public abstract int Receive(ReadOnlySpan<RxBuffer> buffers, Span<FrameView> frames);

    /// <summary>
    /// Sends as many of <paramref name="frames"/> as the port accepts now, in order; returns that count (frames the
    /// port refuses and counts also count as taken). <paramref name="meta"/> is each frame's parsed and rewritten
    /// metadata, or empty from a caller that has none (then the frames carry no offload work).
    /// </summary>
    /// <remarks>The frames' memory is the caller's again when this returns.</remarks>
    public abstract int Transmit(ReadOnlySpan<FrameView> frames, ReadOnlySpan<PacketMeta> meta);

    /// <summary>
    /// A descriptor poll(2) reports readable (POLLIN) when <see cref="Receive"/> would find a frame, so an idle worker
    /// can sleep until then; -1 (the default) when the port has none, and the worker keeps polling it.
    /// </summary>
    internal virtual int ReadinessHandle => -1;

    /// <summary>Lets the worker that owns the port count the port's own refusals among its drops (called before it starts).</summary>
    internal virtual void AttachDropCounters(long* drops)
    {
    }

    /// <summary>Brings counters that live outside the process (kernel statistics) into <see cref="Counters"/>; any thread, not per packet.</summary>
    public virtual void RefreshCounters()
    {
    }

    /// <summary>
    /// Counts frames this port received into <see cref="Counters"/> (<c>RxPackets</c>, <c>RxBytes</c>): for ports
    /// written outside this assembly, called from <see cref="Receive"/> on the worker thread, once per burst.
    /// </summary>
    protected void CountReceived(int frames, long bytes)
    {
        PortCounters counters = Counters;
        Volatile.Write(ref counters._rxPackets, counters._rxPackets + frames);
        Volatile.Write(ref counters._rxBytes, counters._rxBytes + bytes);
    }

    /// <summary>
    /// Counts frames this port sent into <see cref="Counters"/> (<c>TxPackets</c>, <c>TxBytes</c>): for ports written
    /// outside this assembly, called from <see cref="Transmit"/> on the worker thread, once per burst.
    /// </summary>
    protected void CountSent(int frames, long bytes)
    {
        PortCounters counters = Counters;
        Volatile.Write(ref counters._txPackets, counters._txPackets + frames);
        Volatile.Write(ref counters._txBytes, counters._txBytes + bytes);
    }

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
    /// <remarks>Idempotent: a second call does nothing (ports free native memory, which must be freed once).</remarks>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the port's kernel objects.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
