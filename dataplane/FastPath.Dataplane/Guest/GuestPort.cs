using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports;
using Microsoft.Win32.SafeHandles;

namespace FastPath.Dataplane.Guest;

/// <summary>
/// The data plane's end of the guest channel: a user-side port whose far end is a guest process on a Unix socket.
/// Secure→user packets the worker translates to this port's (tenant, address) are moved to the guest (header kept in
/// the header slab, payload left in place, descriptor posted); what the guest sends comes out of <see cref="Receive"/>
/// as a user-side frame whose header the port built itself, for the worker's user→secure stage to translate.
/// </summary>
/// <remarks>
/// Concurrency: <see cref="Receive"/> and the routing calls (<see cref="Matches"/>, <see cref="CanTake"/>,
/// <see cref="Post"/>, <see cref="Flush"/>) belong to the one worker that has this port in a binding. A listener thread
/// accepts guests (one at a time) and watches the connection for a hang-up; it hands connections to the worker and
/// takes them back through <see cref="GuestConnection"/>'s flags, never touching frames or rings itself.
/// A guest owns a frame from the moment it is posted (RX or fill ring) until it sends or frees it; the worker tracks
/// that in a private byte per frame, so a descriptor naming a frame the guest does not hold is refused, and a guest
/// that leaves gives back everything it held. Dispose the port after its worker has stopped and before the pool.
/// </remarks>
internal sealed unsafe partial class GuestPort : PacketPort
{
    private readonly FramePool _pool;
    private readonly ushort _tenant;
    private readonly byte _family;
    private readonly byte[] _address = new byte[16];
    private readonly byte* _owned;
    private readonly long* _ownDrops;
    private long* _drops;
    private readonly int _maxHeld;
    private int _held; // frames marked in _owned; worker thread only
    private GuestConnection? _active; // worker thread only

    /// <summary>Creates the port and starts listening on <paramref name="socketPath"/>.</summary>
    /// <param name="name">Port name (configuration, counters).</param>
    /// <param name="socketPath">Unix socket the guest connects to.</param>
    /// <param name="tenant">The guest's tenant: its user-side VLAN ID, 0 for untagged.</param>
    /// <param name="address">The guest's user-side address, bound in the configuration; the source of everything it sends.</param>
    /// <param name="pool">The frame pool whose payload slab the guest maps.</param>
    /// <param name="maxHeldFrames">Most frames the guest may hold at once (received, taken from the fill ring, not yet
    /// sent or freed); beyond it packets for the guest are dropped and no fill frames are given, so a guest that hoards
    /// frames cannot drain the pool. 0: half the pool.</param>
    internal GuestPort(string name, string socketPath, ushort tenant, IPAddress address, FramePool pool, int maxHeldFrames = 0)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxHeldFrames);
        _maxHeld = maxHeldFrames == 0 ? (int)Math.Max(1, pool.FrameCount / 2) : maxHeldFrames;
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tenant, (ushort)4094);
        if (pool.Region.SegmentCount != 2 || pool.Region.Segment(1).File is null)
        {
            throw new ArgumentException("the pool's payload slab must be a mapped memfd to share with a guest", nameof(pool));
        }

        _pool = pool;
        _tenant = tenant;
        _family = address.AddressFamily == AddressFamily.InterNetworkV6 ? (byte)6 : (byte)4;
        address.TryWriteBytes(_address, out _);
        _owned = (byte*)NativeMemory.AllocZeroed(pool.FrameCount);
        _ownDrops = (long*)NativeMemory.AllocZeroed((nuint)(DropReasons.Count * sizeof(long)));
        _drops = _ownDrops;
        SocketPath = socketPath;
        _listener = GuestSocket.Listen(socketPath);
        _listenerThread = new Thread(Listen) { IsBackground = true, Name = $"fastpath-guest-{name}" };
        _listenerThread.Start();
    }

    /// <summary>
    /// Frames the guest sent that the worker took (RX: rebuilt user-side frames, bytes with their headers) and packets
    /// posted to the guest (TX: bytes of payload, the only part the guest sees).
    /// </summary>
    public PortCounters Counters { get; } = new();

    /// <summary>Where guests connect.</summary>
    internal string SocketPath { get; }

    internal ushort Tenant => _tenant;

    /// <summary>Frames the guest holds now (worker-thread view; exact once the worker stopped).</summary>
    internal int OwnedFrames
    {
        get
        {
            int count = 0;
            for (uint i = 0; i < _pool.FrameCount; i++)
            {
                count += _owned[i];
            }

            return count;
        }
    }

    /// <summary>True while a guest is attached, as the worker last saw it.</summary>
    internal bool Connected => _active is not null;

    /// <summary>Lets the worker count this port's refusals in its own drop slots (called before the worker starts).</summary>
    internal void UseCounters(long* drops) => _drops = drops;

    /// <summary>Refusals counted before a worker took over the counting (a port used on its own).</summary>
    internal long Dropped(DropReason reason) => _ownDrops[(int)reason];

    /// <inheritdoc />
    /// <remarks>Nothing is transmitted through a guest port this way: the worker routes frames to it with <see cref="Post"/>.</remarks>
    public override int Transmit(ReadOnlySpan<FrameView> frames) => 0;

    /// <summary>Whether a translated secure→user packet is for this guest: its tenant and destination are the port's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool Matches(byte* data, in PacketMeta meta)
    {
        if (meta.VlanId != _tenant || meta.IpVersion != _family)
        {
            return false;
        }

        ref byte address = ref MemoryMarshal.GetArrayDataReference(_address);
        byte* destination = data + meta.DestinationOffset;
        return _family == 4
            ? Unsafe.ReadUnaligned<uint>(destination) == Unsafe.ReadUnaligned<uint>(ref address)
            : Unsafe.ReadUnaligned<UInt128>(destination) == Unsafe.ReadUnaligned<UInt128>(ref address);
    }

    protected override void Dispose(bool disposing)
    {
        StopListener();
        if (_active is not null)
        {
            ReleaseAll();
            _active = null;
        }

        GuestConnection? offered = Interlocked.Exchange(ref _offered, null);
        offered?.Dispose();
        _listener.Dispose();
        if (File.Exists(SocketPath))
        {
            File.Delete(SocketPath);
        }

        // Frames still marked (a worker that never adopted the connection, or was stopped first) go back too.
        ReleaseAll();
        NativeMemory.Free(_owned);
        NativeMemory.Free(_ownDrops);
        base.Dispose(disposing);
    }

    private void Count(DropReason reason, int count = 1) => _drops[(int)reason] += count;

    /// <summary>Returns every frame the guest held to the pool and clears the marks (cold: on hang-up or dispose).</summary>
    private void ReleaseAll()
    {
        Span<uint> batch = stackalloc uint[64];
        int n = 0;
        for (uint i = 0; i < _pool.FrameCount; i++)
        {
            if (_owned[i] == 0)
            {
                continue;
            }

            _owned[i] = 0;
            _held--;
            batch[n++] = i;
            if (n == batch.Length)
            {
                _pool.FreeBulk(batch);
                n = 0;
            }
        }

        _pool.FreeBulk(batch[..n]);
    }

    private static SafeFileHandle PayloadFile(FramePool pool) => pool.Region.Segment(1).File!;
}
