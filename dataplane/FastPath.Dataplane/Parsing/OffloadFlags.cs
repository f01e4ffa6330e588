namespace FastPath.Dataplane.Parsing;

/// <summary>Per-frame checksum offload state.</summary>
[Flags]
public enum OffloadFlags : byte
{
    /// <summary>Every checksum in the frame is complete.</summary>
    None = 0,

    /// <summary>
    /// The transport checksum field holds only the pseudo-header sum (CHECKSUM_PARTIAL, VIRTIO_NET_HDR_F_NEEDS_CSUM):
    /// the egress completes it, in hardware or in software. Incremental address updates stay correct on such a field.
    /// </summary>
    ChecksumPartial = 1,
}
