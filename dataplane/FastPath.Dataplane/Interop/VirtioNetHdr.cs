using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Interop;

/// <summary>
/// <c>struct virtio_net_hdr</c> (10 bytes, linux/virtio_net.h): the offload metadata PACKET_VNET_HDR puts in front of
/// every frame an AF_PACKET socket receives (before the MAC header in a ring frame) and expects in front of every frame
/// it sends. Fields are in host byte order (little-endian virtio on x86-64).
/// </summary>
/// <remarks>Plain data shared with the kernel; read while the frame is user space's.</remarks>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
internal struct VirtioNetHdr
{
    /// <summary>sizeof(struct virtio_net_hdr).</summary>
    public const int Size = 10;

    /// <summary>VIRTIO_NET_HDR_F_*: <see cref="LinuxConstants.VirtioNetHdrFNeedsCsum"/>, <see cref="LinuxConstants.VirtioNetHdrFDataValid"/>.</summary>
    public byte Flags;

    /// <summary>VIRTIO_NET_HDR_GSO_*, with <see cref="LinuxConstants.VirtioNetHdrGsoEcn"/> or-ed in when the sender set ECN's CWR.</summary>
    public byte GsoType;

    /// <summary>Bytes of headers in front of the payload that GSO cuts (Ethernet through transport header).</summary>
    public ushort HdrLen;

    /// <summary>Payload bytes per segment (the MSS).</summary>
    public ushort GsoSize;

    /// <summary>Where the checksum computation starts, from the first byte of the Ethernet header (NEEDS_CSUM).</summary>
    public ushort CsumStart;

    /// <summary>Where the checksum is stored, from <see cref="CsumStart"/>.</summary>
    public ushort CsumOffset;
}
