using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Interop;

/// <summary><c>struct tpacket_req3</c> (linux/if_packet.h): the geometry of a PACKET_RX_RING / PACKET_TX_RING.</summary>
/// <remarks>Plain data; copied into the kernel by setsockopt.</remarks>
[StructLayout(LayoutKind.Sequential)]
internal struct TPacketReq3
{
    public uint BlockSize;
    public uint BlockCount;
    public uint FrameSize;
    public uint FrameCount;
    public uint RetireBlockTimeoutMilliseconds;
    public uint SizeOfPrivate;
    public uint FeatureRequestWord;
}
