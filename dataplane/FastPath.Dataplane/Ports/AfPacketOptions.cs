namespace FastPath.Dataplane.Ports;

/// <summary>
/// Geometry and behaviour of an <see cref="AfPacketPort"/>'s socket and rings. A frame ring (the default) holds 525
/// frames of 68 KiB in 35 blocks of 1 MiB (35 MiB); a block ring holds 64 MiB like the C anchor's
/// (<c>shared/anchors/afp_rx_v3.c</c>: 64 blocks of 1 MiB), cut into more, smaller blocks (see <see cref="BlockCount"/>).
/// </summary>
/// <remarks>Immutable once built; validated when the port opens.</remarks>
public sealed class AfPacketOptions
{
    /// <summary>Smallest MTU a port accepts (ETH_MIN_MTU, the IPv4 minimum).</summary>
    public const int MinMtu = 68;

    /// <summary>Largest MTU a port accepts: a 9000-byte jumbo frame.</summary>
    public const int MaxMtu = 9000;

    /// <summary>Bytes per <see cref="AfPacketRxRing.Frames"/> ring frame: 17 pages, room for a 64 KiB super-frame behind its headers.</summary>
    public const int RingFrameSize = 17 << 12;

    /// <summary>
    /// Bytes per block of a <see cref="AfPacketRxRing.Frames"/> ring: 1 MiB holds 15 frames and wastes one page. The
    /// kernel allocates every block as a power-of-two run of pages, so one 17-page frame per block would cost 32 pages.
    /// </summary>
    public const int RingBlockSize = 1 << 20;

    /// <summary>Frames in one <see cref="RingBlockSize"/> block.</summary>
    public const int RingFramesPerBlock = RingBlockSize / RingFrameSize;

    /// <summary>
    /// The RX ring's kind. <see cref="AfPacketRxRing.Frames"/> (the default) hands each frame over as soon as the kernel
    /// wrote it, so a lone packet waits for nothing; <see cref="AfPacketRxRing.Blocks"/> packs many more small frames
    /// per byte but hands a partly filled block over only when its retire timer fires (bench/RESULTS.md, issue 22: ping
    /// RTT, throughput and retransmits for both, beside the kernel).
    /// </summary>
    public AfPacketRxRing RxRing { get; init; } = AfPacketRxRing.Frames;

    /// <summary>
    /// Frames of a <see cref="AfPacketRxRing.Frames"/> ring (<see cref="RingFrameSize"/> bytes each), rounded up to whole
    /// blocks of <see cref="RingFramesPerBlock"/>: 512 → 525 frames in 35 MiB.
    /// </summary>
    public int RingFrames { get; init; } = 512;

    /// <summary>Blocks of <see cref="RingBlockSize"/> bytes a <see cref="AfPacketRxRing.Frames"/> ring of <see cref="RingFrames"/> takes.</summary>
    internal int RingBlocks => (RingFrames + RingFramesPerBlock - 1) / RingFramesPerBlock;

    /// <summary>
    /// Bytes per RX block (a power of two, at least one page). The kernel fills a block with variable-sized frames
    /// and hands the whole block over at once, so one block-status check covers many frames.
    /// </summary>
    public int BlockSize { get; init; } = 1 << 18;

    /// <summary>
    /// RX blocks in the ring. Under sparse traffic every retire timeout hands over a nearly empty block, so the
    /// ring then buffers <c>BlockCount × RetireTimeoutMilliseconds</c> (256 ms) of a stalled reader; under load it
    /// buffers by bytes: 64 MiB holds about half a million 64-byte frames (≈ 0.4 s at the veth ceiling).
    /// </summary>
    public int BlockCount { get; init; } = 256;

    /// <summary>
    /// The RX ring's nominal frame size (a multiple of 16): TPACKET_V3 packs frames by their real length, so this
    /// only sets the frame count the kernel checks the geometry against.
    /// </summary>
    public int FrameSize { get; init; } = 2048;

    /// <summary>
    /// How long the kernel keeps a partly filled RX block before handing it over anyway: the worst-case latency
    /// of a lone frame at a low rate. At high rates blocks fill long before this.
    /// </summary>
    public int RetireTimeoutMilliseconds { get; init; } = 1;

    /// <summary>Whether the port receives. A send-only port (the traffic generator) has no RX ring and costs the kernel nothing per received frame.</summary>
    public bool Receive { get; init; } = true;

    /// <summary>Whether to put the interface in promiscuous mode for this socket: frames are addressed to the peer's MAC, not the interface's.</summary>
    public bool Promiscuous { get; init; } = true;

    /// <summary>
    /// A PACKET_FANOUT group (0–65535) to join in hash mode, so several ports (one per worker) share the
    /// interface's traffic by flow; null for none. Every socket in a group must use the same options.
    /// </summary>
    public int? FanoutGroup { get; init; }

    /// <summary>
    /// An MTU (<see cref="MinMtu"/>–<see cref="MaxMtu"/>) to set on the interface when the port opens, or null to
    /// leave it as it is. Frames longer than MTU + Ethernet header that the port cannot hand to the kernel as GSO
    /// are dropped as <c>too-big</c>.
    /// </summary>
    public int? Mtu { get; init; }

    internal void Validate(string interfaceName)
    {
        if (BlockSize < 4096 || (BlockSize & (BlockSize - 1)) != 0)
        {
            throw new ArgumentException($"{interfaceName}: block size {BlockSize} must be a power of two of at least 4096 bytes");
        }

        if (BlockCount < 2 || (long)BlockSize * BlockCount > 1L << 32)
        {
            throw new ArgumentException($"{interfaceName}: block count {BlockCount} must be at least 2 and the ring at most 4 GiB");
        }

        if (FrameSize < 128 || FrameSize % 16 != 0 || FrameSize > BlockSize)
        {
            throw new ArgumentException($"{interfaceName}: frame size {FrameSize} must be a multiple of 16 between 128 and the block size");
        }

        if (RingFrames < 8 || (long)RingBlocks * RingBlockSize > 1L << 32)
        {
            throw new ArgumentException($"{interfaceName}: ring frames {RingFrames} must be at least 8 and the ring at most 4 GiB");
        }

        if (RetireTimeoutMilliseconds is < 1 or > 1000)
        {
            throw new ArgumentException($"{interfaceName}: block retire timeout {RetireTimeoutMilliseconds} ms must be between 1 and 1000");
        }

        if (Mtu is < MinMtu or > MaxMtu)
        {
            throw new ArgumentException($"{interfaceName}: MTU {Mtu} must be between {MinMtu} and {MaxMtu}");
        }

        if (FanoutGroup is < 0 or > 0xFFFF)
        {
            throw new ArgumentException($"{interfaceName}: fanout group {FanoutGroup} must be between 0 and 65535");
        }
    }
}
