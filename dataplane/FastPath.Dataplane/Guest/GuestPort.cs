using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports;

namespace FastPath.Dataplane.Guest;

/// <summary>
/// The data plane's end of the guest channel: a user-side port whose far end is a guest process on a Unix socket.
/// Secure→user packets that the translation stage sends here (their translated (tenant, destination) is the port's)
/// are transmitted to the guest: the header is kept in the guest's private header slab, the payload is copied into a
/// frame of the guest's own payload memory, and a descriptor is posted. What the guest sends comes out of
/// <see cref="Receive"/> as a user-side frame whose header the port built itself, in the worker's private memory.
/// </summary>
/// <remarks>
/// Memory rule (seed 000): a guest maps only its own frames. Each connection gets a fresh <see cref="FramePool"/> of
/// the guest's quota (<see cref="GuestConnection.Frames"/>) whose payload memfd alone is sent to that guest; the
/// worker's frames, other guests' frames and every header stay in memory no guest is ever given.
/// Concurrency: <see cref="Receive"/> and <see cref="Transmit"/> belong to the one worker that has this port in its
/// bindings. A listener thread accepts guests (one at a time) and watches the connection for a hang-up; it hands
/// connections to the worker and takes them back through <see cref="GuestConnection"/>'s flags, never touching frames
/// or rings itself. A guest owns a frame from the moment it is posted (RX or fill ring) until it sends or frees it;
/// the worker tracks that in a private byte per frame, so a descriptor naming a frame the guest does not hold is
/// refused. Dispose the port after its worker has stopped.
/// </remarks>
internal sealed unsafe partial class GuestPort : PacketPort
{
    private readonly ushort _tenant;
    private readonly byte _family;
    private readonly byte[] _address = new byte[16];
    private readonly long* _ownDrops;
    private readonly int _maxHeld;
    private readonly int _payloadSlotSize;
    private long* _drops;
    private GuestConnection? _active; // worker thread only

    /// <summary>Creates the port and starts listening on <paramref name="socketPath"/>.</summary>
    /// <param name="name">Port name (configuration, counters).</param>
    /// <param name="socketPath">Unix socket the guest connects to.</param>
    /// <param name="tenant">The guest's tenant: its user-side VLAN ID, 0 for untagged.</param>
    /// <param name="address">The guest's user-side address, bound in the configuration; the source of everything it sends.</param>
    /// <param name="maxHeldFrames">Frames each guest gets: the most it can hold at once (received, taken from the fill ring,
    /// not yet sent or freed), and so the size of its payload memory; beyond it packets for the guest are dropped.</param>
    /// <param name="payloadSlotSize">Bytes per payload frame of the guest (a multiple of 64).</param>
    internal GuestPort(string name, string socketPath, ushort tenant, IPAddress address, int maxHeldFrames = GuestLayout.DefaultMaxHeldFrames,
        int payloadSlotSize = FramePool.DefaultPayloadSlotSize)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHeldFrames, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxHeldFrames, GuestLayout.MaxHeldFrames);
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tenant, FastPath.Dataplane.Tenant.Max);
        _maxHeld = maxHeldFrames;
        _payloadSlotSize = payloadSlotSize;
        _tenant = tenant;
        _family = address.AddressFamily == AddressFamily.InterNetworkV6 ? (byte)6 : (byte)4;
        address.TryWriteBytes(_address, out _);
        _ownDrops = (long*)NativeMemory.AllocZeroed((nuint)(DropReasons.Count * sizeof(long)));
        _drops = _ownDrops;
        SocketPath = socketPath;
        _listener = GuestSocket.Listen(socketPath);
        _listenerThread = new Thread(Listen) { IsBackground = true, Name = $"fastpath-guest-{name}" };
        _listenerThread.Start();
    }

    /// <summary>Where guests connect.</summary>
    internal string SocketPath { get; }

    internal ushort Tenant => _tenant;

    /// <summary>The guest's user-side address family (4 or 6).</summary>
    internal byte Family => _family;

    /// <summary>The guest's user-side address (4 or 16 bytes).</summary>
    internal ReadOnlySpan<byte> Address => _address.AsSpan(0, _family == 6 ? 16 : 4);

    /// <summary>Frames the attached guest holds now (worker-thread view; exact once the worker stopped); 0 without a guest.</summary>
    internal int OwnedFrames => _active?.Held ?? 0;

    /// <summary>The attached guest's own frames (headers and payloads), as the worker last saw it; for tests and diagnostics.</summary>
    internal FramePool? GuestFrames => _active?.Frames;

    /// <summary>True while a guest is attached, as the worker last saw it.</summary>
    internal bool Connected => _active is not null;

    /// <inheritdoc />
    internal override void AttachDropCounters(long* drops) => _drops = drops;

    /// <summary>Refusals counted before a worker took over the counting (a port used on its own).</summary>
    internal long Dropped(DropReason reason) => _ownDrops[(int)reason];

    protected override void Dispose(bool disposing)
    {
        StopListener();
        if (_active is not null)
        {
            _active.Retire();
            _active = null;
        }

        GuestConnection? offered = Interlocked.Exchange(ref _offered, null);
        offered?.Dispose();
        _listener.Dispose();
        if (File.Exists(SocketPath))
        {
            File.Delete(SocketPath);
        }

        NativeMemory.Free(_ownDrops);
        base.Dispose(disposing);
    }

    private void Count(DropReason reason, int count = 1) => _drops[(int)reason] += count;

    /// <summary>Marks frame <paramref name="frame"/> of the guest's pool as the guest's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Own(GuestConnection guest, uint frame)
    {
        guest.Owned[frame] = 1;
        guest.Held++;
    }

    /// <summary>Takes frame <paramref name="frame"/> back from the guest if it holds it; false (and nothing touched) otherwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryDisown(GuestConnection guest, uint frame)
    {
        if (frame >= guest.Frames.FrameCount || guest.Owned[frame] == 0)
        {
            return false;
        }

        guest.Owned[frame] = 0;
        guest.Held--;
        return true;
    }
}
