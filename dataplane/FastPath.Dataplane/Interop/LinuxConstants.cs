namespace FastPath.Dataplane.Interop;

/// <summary>
/// Linux x86-64 constants from the kernel UAPI headers (values checked against
/// <c>linux/if_packet.h</c>, <c>sys/mman.h</c>, <c>linux/if_tun.h</c> on Debian 12, kernel 6.x).
/// </summary>
internal static class LinuxConstants
{
    // sys/mman.h
    internal const int ProtNone = 0x0;
    internal const int ProtRead = 0x1;
    internal const int ProtWrite = 0x2;
    internal const int MapShared = 0x01;
    internal const int MapPrivate = 0x02;
    internal const int MapFixed = 0x10;
    internal const int MapAnonymous = 0x20;
    internal const int MapNoReserve = 0x4000;
    internal const int MapPopulate = 0x8000;
    internal const int MadvWillNeed = 3;
    internal const int MadvDontFork = 10;
    internal const int MadvHugePage = 14;
    internal static readonly unsafe void* MapFailed = (void*)-1;

    // linux/memfd.h
    internal const uint MfdCloexec = 0x0001;
    internal const uint MfdAllowSealing = 0x0002;

    // fcntl.h
    internal const int ORdOnly = 0x0000;
    internal const int ORdWr = 0x0002;
    internal const int OCloexec = 0x80000;
    internal const int ODirectory = 0x10000;
    internal const int ONonBlock = 0x800;
    internal const int FDupFdCloexec = 1030;
    internal const int SeekEnd = 2;

    // unistd.h sysconf names
    internal const int ScPageSize = 30;
    internal const int ScNProcessorsOnln = 84;

    // sys/socket.h
    internal const int AfUnix = 1;
    internal const int AfInet = 2;
    internal const int AfPacket = 17;
    internal const int AfInet6 = 10;
    internal const int SockStream = 1;
    internal const int SockDgram = 2;
    internal const int SockRaw = 3;
    internal const int SockSeqPacket = 5;
    internal const int SockNonBlock = 0x800;
    internal const int SockCloexec = 0x80000;
    internal const int SolSocket = 1;
    internal const int SoRcvBuf = 8;
    internal const int SoSndBuf = 7;
    internal const int SoRcvBufForce = 33;
    internal const int SoSndBufForce = 32;
    internal const int SoBusyPoll = 46;
    internal const int ScmRights = 1;
    internal const int MsgDontWait = 0x40;
    internal const int MsgNoSignal = 0x4000;
    internal const int MsgCmsgCloexec = 0x40000000;

    // linux/if_ether.h: ETH_P_ALL, in network byte order when passed to socket()/bind().
    internal const ushort EthPAll = 0x0003;

    // linux/if_packet.h
    internal const int SolPacket = 263;
    internal const int PacketAddMembership = 1;
    internal const int PacketRxRing = 5;
    internal const int PacketStatistics = 6;
    internal const int PacketVersion = 10;
    internal const int PacketReserve = 12;
    internal const int PacketTxRing = 13;
    internal const int PacketLoss = 14;
    internal const int PacketFanout = 18;
    internal const int PacketQdiscBypass = 20;
    internal const int PacketIgnoreOutgoing = 23;
    internal const int PacketMrPromisc = 1;
    internal const int TPacketV2 = 1;
    internal const int TPacketV3 = 2;
    internal const int PacketFanoutHash = 0;
    internal const int PacketFanoutCpu = 2;
    internal const int PacketFanoutFlagDefrag = 0x8000;
    internal const int TpStatusKernel = 0;
    internal const int TpStatusUser = 1;
    internal const int TpStatusSendRequest = 1;
    internal const int TpStatusSending = 2;
    internal const int TpStatusWrongFormat = 4;

    // poll.h
    internal const short PollIn = 0x001;
    internal const short PollOut = 0x004;
    internal const short PollErr = 0x008;
    internal const short PollHup = 0x010;

    // linux/if_tun.h: TUNSETIFF = _IOW('T', 202, int).
    internal const nuint TunSetIff = 0x400454ca;
    internal const short IffTun = 0x0001;
    internal const short IffTap = 0x0002;
    internal const short IffNoPi = 0x1000;

    // linux/sockios.h
    internal const nuint SiocGIfIndex = 0x8933;
    internal const nuint SiocGIfHwAddr = 0x8927;

    // Ports: linux/if_packet.h tp_status bits of a TPACKET_V3 RX frame.
    internal const int TpStatusCsumNotReady = 1 << 3;
    internal const int TpStatusVlanValid = 1 << 4;
    internal const int TpStatusVlanTpidValid = 1 << 6;
    internal const int TpStatusCsumValid = 1 << 7;

    // Issue 22: linux/if_packet.h PACKET_VNET_HDR, linux/virtio_net.h flags and GSO types.
    internal const int PacketVnetHdr = 15;
    internal const byte VirtioNetHdrFNeedsCsum = 1;
    internal const byte VirtioNetHdrFDataValid = 2;
    internal const byte VirtioNetHdrGsoNone = 0;
    internal const byte VirtioNetHdrGsoTcpV4 = 1;
    internal const byte VirtioNetHdrGsoUdp = 3;
    internal const byte VirtioNetHdrGsoTcpV6 = 4;
    internal const byte VirtioNetHdrGsoUdpL4 = 5;
    internal const byte VirtioNetHdrGsoEcn = 0x80;

    // linux/if_ether.h
    internal const ushort EthP8021Q = 0x8100;
    internal const int EthHeaderLength = Parsing.HeaderParser.EthernetHeaderLength;

    // linux/sockios.h, net/if.h: bringing a link up.
    internal const nuint SiocGIfFlags = 0x8913;
    internal const nuint SiocSIfFlags = 0x8914;
    internal const nuint SiocGIfMtu = 0x8921;
    internal const nuint SiocSIfMtu = 0x8922;
    internal const short IffUp = 0x1;

    // asm-generic/errno.h values the ports branch on (Errno.Name spells them in messages).
    internal const int EIntr = 4;
    internal const int EAgain = 11;
    internal const int ENoBufs = 105;

    // clock_gettime(2): CPU time consumed by the calling thread.
    internal const int ClockThreadCputimeId = 3;
}
