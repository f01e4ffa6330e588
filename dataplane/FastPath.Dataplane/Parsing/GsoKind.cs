namespace FastPath.Dataplane.Parsing;

/// <summary>Segmentation a super-frame still needs (the kernel's VIRTIO_NET_HDR_GSO_* types we carry).</summary>
public enum GsoKind : byte
{
    /// <summary>An ordinary frame.</summary>
    None = 0,

    /// <summary>TCP over IPv4, cut into segments of <see cref="FrameOffload.GsoSize"/> payload bytes.</summary>
    TcpV4 = 1,

    /// <summary>TCP over IPv6.</summary>
    TcpV6 = 2,

    /// <summary>UDP datagrams of <see cref="FrameOffload.GsoSize"/> bytes each (UDP_SEGMENT, no IP fragmentation).</summary>
    UdpL4 = 3,
}
