namespace FastPath.Dataplane.Parsing;

/// <summary>Per-frame checksum offload state.</summary>
[Flags]
public enum OffloadFlags : byte
{
    /// <summary>Every checksum in the frame is complete.</summary>
    None = 0,

    /// <summary>
    /// The transport checksum field holds only the pseudo-header sum (CHECKSUM_PARTIAL, VIRTIO_NET_HDR_F_NEEDS_CSUM):
    /// the egress completes it, in hardware or in software. The stage's RFC 1624 update assumes a complemented checksum,
    /// so on such a field it is not the right value: every egress rewrites the field from the translated addresses
    /// (the pseudo-header sum for the kernel, <c>Ports/Segmentation/VnetOffload</c>) or completes it from scratch.
    /// </summary>
    ChecksumPartial = 1,
}
