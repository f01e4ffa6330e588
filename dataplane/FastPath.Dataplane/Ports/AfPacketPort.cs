using System.Runtime.InteropServices;
using FastPath.Dataplane.Interop;
using static FastPath.Dataplane.Interop.LinuxConstants;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// A port on a Linux interface through one AF_PACKET socket with PACKET_VNET_HDR: a memory-mapped RX ring (TPACKET_V2
/// frames or TPACKET_V3 blocks, <see cref="AfPacketRxRing"/>) whose frames are handed to the worker in place, with
/// their offload state, and given back on the next receive; non-blocking sendmmsg(2) for TX, each frame behind a
/// virtio_net_hdr that hands GSO and checksum work back to the kernel (faster than a TX ring on veth:
/// AfPacketPort.Transmit.cs). PACKET_QDISC_BYPASS skips the qdisc layer;
/// PACKET_IGNORE_OUTGOING keeps the port from reading its own transmissions; PACKET_FANOUT (hash) lets one port
/// per worker share an interface.
/// </summary>
/// <remarks>
/// Concurrency: one owner thread calls <see cref="Receive"/> and <see cref="Transmit"/>;
/// <see cref="PacketPort.Counters"/> and <see cref="RefreshCounters"/> may be used from any thread.
/// The RX ring's block-status words are the only memory shared with the kernel: AfPacketPort.Receive.cs names
/// the orderings.
/// </remarks>
public sealed unsafe partial class AfPacketPort : PacketPort
{
    private static readonly byte[] s_broadcast = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];

    private readonly Lock _statisticsLock = new();
    private readonly AfPacketOptions _options;
    private int _fd = -1;
    private byte* _map;
    private nuint _mapLength;

    /// <summary>
    /// Opens a port on <paramref name="interfaceName"/>. The port's MAC starts as the interface's address and its
    /// peer MAC as broadcast; <see cref="PacketPort.SetMacs"/> sets the configured ones.
    /// </summary>
    /// <exception cref="ErrnoException">A socket call failed; the message names the call and the interface.</exception>
    public AfPacketPort(string name, string interfaceName, AfPacketOptions? options = null)
        : base(name)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        if (interfaceName.Length >= IfReq.NameSize)
        {
            throw new ArgumentException($"interface name '{interfaceName}' is longer than {IfReq.NameSize - 1} characters", nameof(interfaceName));
        }

        _options = options ?? new AfPacketOptions();
        _options.Validate(interfaceName);
        InterfaceName = interfaceName;
        try
        {
            Open();
        }
        catch (Exception)
        {
            Release();
            throw;
        }
    }

    ~AfPacketPort() => Dispose(disposing: false);

    /// <summary>The Linux interface the socket is bound to.</summary>
    public string InterfaceName { get; }

    /// <summary>The interface index the socket is bound to.</summary>
    public int InterfaceIndex { get; private set; }

    /// <inheritdoc />
    /// <remarks>
    /// The socket: the kernel's packet_poll reports POLLIN when the ring slot before its write position is not the
    /// kernel's, and wakes a sleeper per frame written (frame ring) or per block retired (block ring, so a sleeping
    /// worker waits for the retire timeout as a polling one does). <see cref="Receive"/> gives back every slot it
    /// handed out before it looks for new ones, so after a receive that found nothing the socket is not readable until
    /// the kernel writes again: no busy wake-ups.
    /// </remarks>
    internal override int ReadinessHandle => _options.Receive ? _fd : -1;

    /// <inheritdoc />
    /// <remarks>Adds the kernel's PACKET_STATISTICS since the last call (the kernel resets them on every read).</remarks>
    public override void RefreshCounters()
    {
        lock (_statisticsLock)
        {
            if (_fd < 0 || !_options.Receive)
            {
                return;
            }

            // A TPACKET_V2 socket fills only the first two fields (struct tpacket_stats).
            TPacketStatsV3 stats = default;
            uint length = (uint)sizeof(TPacketStatsV3);
            if (Libc.Getsockopt(_fd, SolPacket, PacketStatistics, &stats, &length) < 0)
            {
                Errno.Throw("getsockopt(PACKET_STATISTICS)", Where);
            }

            Counters._kernelPackets += stats.Packets;
            Counters._kernelDrops += stats.Drops;
            Counters._kernelFreezes += stats.FreezeQueueCount;
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        lock (_statisticsLock)
        {
            Release();
        }

        base.Dispose(disposing);
    }

    private string Where => $"interface {InterfaceName}";

    private void Open()
    {
        InterfaceIndex = (int)Libc.IfNametoindex(InterfaceName);
        if (InterfaceIndex == 0)
        {
            Errno.Throw("if_nametoindex", Where);
        }

        // Protocol 0 receives nothing until bind names the interface: a socket opened with ETH_P_ALL would take
        // frames from every interface into its ring between socket() and bind().
        _fd = Libc.Socket(AfPacket, SockRaw | SockCloexec, 0);
        if (_fd < 0)
        {
            Errno.Throw("socket(AF_PACKET)", Where);
        }

        bool frames = _options.RxRing == AfPacketRxRing.Frames;
        SetOption(SolPacket, PacketVersion, frames ? TPacketV2 : TPacketV3, "setsockopt(PACKET_VERSION)");
        SetOption(SolPacket, PacketQdiscBypass, 1, "setsockopt(PACKET_QDISC_BYPASS)");

        // Every frame in and out carries a virtio_net_hdr: TSO/GRO super-frames and partial checksums cross whole,
        // and their offload is handed back to the kernel on send. Set before the ring, which reserves room for it.
        SetOption(SolPacket, PacketVnetHdr, 1, "setsockopt(PACKET_VNET_HDR)");

        // Each frame in flight holds an skb charged to the send buffer until the device (or the veth peer) has it:
        // room for a few thousand, so a burst is not cut short by EAGAIN. FORCE needs CAP_NET_ADMIN, as does AF_PACKET.
        SetOption(SolSocket, SoSndBufForce, 16 << 20, "setsockopt(SO_SNDBUFFORCE)");
        if (_options.Receive)
        {
            SetOption(SolPacket, PacketIgnoreOutgoing, 1, "setsockopt(PACKET_IGNORE_OUTGOING)");
            // A frame ring: 15 frames per 1 MiB block, numbered block by block (the kernel's packet_lookup_frame).
            var rx = frames
                ? new TPacketReq3
                {
                    BlockSize = AfPacketOptions.RingBlockSize,
                    BlockCount = (uint)_options.RingBlocks,
                    FrameSize = AfPacketOptions.RingFrameSize,
                    FrameCount = (uint)(_options.RingBlocks * AfPacketOptions.RingFramesPerBlock),
                }
                : new TPacketReq3
                {
                    BlockSize = (uint)_options.BlockSize,
                    BlockCount = (uint)_options.BlockCount,
                    FrameSize = (uint)_options.FrameSize,
                    FrameCount = (uint)(_options.BlockSize / _options.FrameSize * _options.BlockCount),
                    RetireBlockTimeoutMilliseconds = (uint)_options.RetireTimeoutMilliseconds,
                };
            SetOption(SolPacket, PacketRxRing, &rx, (uint)sizeof(TPacketReq3), "setsockopt(PACKET_RX_RING)");
            nuint length = (nuint)rx.BlockSize * rx.BlockCount;
            void* map = Libc.Mmap(null, length, ProtRead | ProtWrite, MapShared | MapPopulate, _fd, 0);
            if (map == MapFailed)
            {
                Errno.Throw("mmap(PACKET_RX_RING)", Where);
            }

            _map = (byte*)map;
            _mapLength = length;
            InitializeReceive(_map, (int)rx.BlockSize, (int)rx.BlockCount, (int)rx.FrameSize, frames);
        }

        var address = new SockaddrLl
        {
            Family = AfPacket,
            Protocol = _options.Receive ? NetworkOrder(EthPAll) : (ushort)0,
            InterfaceIndex = InterfaceIndex,
        };
        if (Libc.Bind(_fd, &address, (uint)sizeof(SockaddrLl)) < 0)
        {
            Errno.Throw("bind(AF_PACKET)", Where);
        }

        if (_options.Receive && _options.FanoutGroup is int group)
        {
            // Hash mode: the kernel's flow hash (5-tuple) picks the socket, so one flow stays on one worker.
            // No DEFRAG flag: the data plane forwards fragments as they are, it must not receive reassembled packets.
            SetOption(SolPacket, PacketFanout, group | (PacketFanoutHash << 16), $"setsockopt(PACKET_FANOUT group {group})");
        }

        if (_options.Receive && _options.Promiscuous)
        {
            var membership = new PacketMreq { InterfaceIndex = InterfaceIndex, Type = PacketMrPromisc };
            SetOption(SolPacket, PacketAddMembership, &membership, (uint)sizeof(PacketMreq), "setsockopt(PACKET_ADD_MEMBERSHIP promiscuous)");
        }

        var request = default(IfReq);
        request.SetName(InterfaceName);
        if (Libc.Ioctl(_fd, SiocGIfHwAddr, &request) < 0)
        {
            Errno.Throw("ioctl(SIOCGIFHWADDR)", Where);
        }

        SetMacs(new ReadOnlySpan<byte>(request.HardwareAddress, 6), s_broadcast);
        if (_options.Mtu is int mtu)
        {
            request.Mtu = mtu;
            if (Libc.Ioctl(_fd, SiocSIfMtu, &request) < 0)
            {
                Errno.Throw($"ioctl(SIOCSIFMTU {mtu})", Where);
            }
        }

        if (Libc.Ioctl(_fd, SiocGIfMtu, &request) < 0)
        {
            Errno.Throw("ioctl(SIOCGIFMTU)", Where);
        }

        InitializeTransmit(request.Mtu);
    }

    private void SetOption(int level, int option, int value, string call) =>
        SetOption(level, option, &value, sizeof(int), call);

    private void SetOption(int level, int option, void* value, uint length, string call)
    {
        if (Libc.Setsockopt(_fd, level, option, value, length) < 0)
        {
            Errno.Throw(call, Where);
        }
    }

    private void Release()
    {
        ReleaseTransmit();
        if (_map != null)
        {
            Libc.Munmap(_map, _mapLength);
            _map = null;
            InitializeReceive(null, 0, 0, 0, frames: false);
        }

        if (_fd >= 0)
        {
            Libc.Close(_fd);
            _fd = -1;
        }
    }

    private static ushort NetworkOrder(ushort value) =>
        BitConverter.IsLittleEndian ? System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(value) : value;
}
