namespace FastPath.Dataplane.Guest;

/// <summary>
/// The shared-memory contract between a guest port and its guest. Two memfds travel over the Unix socket
/// (SCM_RIGHTS, in this order): the guest's own payload memory (a slab of as many frames as its quota, created for
/// this connection and sent to no one else), and the channel. The guest maps the payload memfd read-write at
/// <c>PayloadSegmentOffset</c> inside a PROT_NONE reservation of <c>RegionLength</c> bytes, so frame offsets match the
/// data plane's and the header slab before it (offsets 0 … PayloadSegmentOffset) faults; it never receives the header
/// memfd. Nothing else the data plane holds (its own frames, other guests' frames, any header) is ever in a memfd it
/// sends, so a guest that maps and scans all it was given finds only its own payloads.
/// </summary>
/// <remarks>
/// Channel memfd: page 0 holds the control block (below, little-endian), then four SPSC rings, each at a
/// page-aligned offset and formatted by the data plane (Rings/README.md: cursors, then slots):
/// <code>
///  RX   worker → guest  GuestRxDescriptor (48 B)   packets for the guest
///  TX   guest → worker  GuestTxDescriptor (32 B)   payloads to send
///  Fill worker → guest  uint frame index           empty frames the guest may write and send
///  Free guest → worker  uint frame index           frames the guest gives back without sending
/// </code>
/// Stateless constants; safe from any thread.
/// </remarks>
public static class GuestLayout
{
    /// <summary>"FPGUEST1" little-endian: the control block's first 8 bytes and the handshake message.</summary>
    public const ulong Magic = 0x3154_5345_5547_5046;

    /// <summary>Layout version; bumped on any change to this contract (2: per-guest payload memory, payloads at offset 0).</summary>
    public const uint Version = 2;

    /// <summary>Slots in each ring: one worker batch of 64 four times over, so a guest a few batches behind loses nothing.</summary>
    public const uint RingCapacity = 256;

    /// <summary>Empty frames the data plane keeps in the fill ring for guest-initiated sends.</summary>
    public const uint FillTarget = 32;

    /// <summary>Frames a guest gets unless configured otherwise: four RX rings' worth.</summary>
    public const int DefaultMaxHeldFrames = 4 * (int)RingCapacity;

    /// <summary>Fewest frames a configured guest may get: one fill ring's worth, so it can always send.</summary>
    public const int MinHeldFrames = (int)FillTarget;

    /// <summary>Most frames a guest may get (its payload memory is this many slots, about 2 GiB at 2 KiB).</summary>
    public const int MaxHeldFrames = 1 << 20;

    /// <summary>Where the data plane puts a received payload in a guest's frame: the slot's start, nothing goes before it.</summary>
    public const int RxPayloadOffset = 0;

    /// <summary>Where a guest should put a new payload in a frame from the fill ring (any offset inside the slot is accepted).</summary>
    public const int NewPayloadOffset = 128;

    // Control block field offsets (page 0 of the channel memfd).
    internal const int MagicOffset = 0;
    internal const int VersionOffset = 8;
    internal const int FrameCountOffset = 12;
    internal const int PayloadSlotSizeOffset = 16;
    internal const int RingCapacityOffset = 20;
    internal const int RegionLengthOffset = 24;
    internal const int PayloadSegmentOffsetOffset = 32;
    internal const int PayloadSegmentLengthOffset = 40;
    internal const int RxRingOffset = 48;
    internal const int TxRingOffset = 56;
    internal const int FillRingOffset = 64;
    internal const int FreeRingOffset = 72;
    internal const int ChannelLengthOffset = 80;
}
