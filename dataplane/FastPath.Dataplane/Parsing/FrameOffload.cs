using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Parsing;

/// <summary>
/// What the kernel left for the next device to do with one frame (a received <c>virtio_net_hdr</c>): segment it
/// (a TCP/UDP super-frame of up to 64 KiB with its segment size) and/or fill in its transport checksum. The
/// header offsets the kernel also sends (hdr_len, csum_start, csum_offset) are not kept: they follow from the
/// frame's parsed <see cref="PacketMeta"/>, which the rewrite keeps true when a VLAN tag moves the frame.
/// </summary>
/// <remarks>4 bytes, so a <see cref="FrameView"/> stays 16. Immutable value.</remarks>
[StructLayout(LayoutKind.Sequential, Size = 4)]
public readonly struct FrameOffload(GsoKind gsoType, ushort gsoSize, OffloadFlags flags)
{
    /// <summary>Payload bytes per segment when <see cref="GsoType"/> is not <see cref="GsoKind.None"/>.</summary>
    public readonly ushort GsoSize = gsoSize;

    /// <summary>How the frame is to be segmented; <see cref="GsoKind.None"/> for an ordinary frame.</summary>
    public readonly GsoKind GsoType = gsoType;

    /// <summary>Checksum work left to the egress.</summary>
    public readonly OffloadFlags Flags = flags;

    /// <summary>True when the frame needs nothing from its egress beyond being sent.</summary>
    public bool IsNone => GsoType == GsoKind.None && Flags == OffloadFlags.None;
}
