using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Parsing;

/// <summary>
/// What the header parser found in one frame: layer offsets, the fields the mapping table and the
/// rewriter need, and a verdict. Offsets count from the first byte of the Ethernet header.
/// </summary>
/// <remarks>
/// 32 bytes so two records share a cache line and a 256-frame batch of metadata fits in 8 KiB of L1.
/// Addresses are not copied: <see cref="SourceOffset"/> and <see cref="DestinationOffset"/> point into
/// the frame, whose header bytes the worker has just touched anyway. When <see cref="Verdict"/> is not
/// <see cref="DropReason.None"/>, only the fields up to the failing layer are meaningful; the rest are 0.
/// </remarks>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct PacketMeta
{
    /// <summary>Size of one record in bytes.</summary>
    public const int Size = 32;

    /// <summary>Offset of the IPv4/IPv6 header (14, or 18 behind one 802.1Q tag).</summary>
    public ushort L3Offset;

    /// <summary>Offset of the transport header (after IPv4 options or the IPv6 extension chain).</summary>
    public ushort L4Offset;

    /// <summary>Offset of the transport payload (after the UDP/TCP/ICMP header); equals L4Offset for non-first fragments.</summary>
    public ushort PayloadOffset;

    /// <summary>One past the last byte of the IP packet (L3Offset + IP length); frames may carry Ethernet padding beyond it.</summary>
    public ushort PacketEnd;

    /// <summary>802.1Q VLAN ID (0–4095); 0 when untagged (see <see cref="PacketFlags.Vlan"/>).</summary>
    public ushort VlanId;

    /// <summary>Offset of the source address in the IP header.</summary>
    public ushort SourceOffset;

    /// <summary>Offset of the destination address in the IP header.</summary>
    public ushort DestinationOffset;

    /// <summary>Offset of the TTL / hop-limit byte.</summary>
    public ushort TtlOffset;

    /// <summary>Offset of the transport checksum (UDP, TCP, ICMP, ICMPv6), or 0 when the frame carries none to update.</summary>
    public ushort L4ChecksumOffset;

    /// <summary>Source port for UDP/TCP, host order; 0 otherwise.</summary>
    public ushort SourcePort;

    /// <summary>Destination port for UDP/TCP, host order; 0 otherwise.</summary>
    public ushort DestinationPort;

    /// <summary>4 or 6 once an IP header was recognised; 0 otherwise.</summary>
    public byte IpVersion;

    /// <summary>Transport protocol number (after the IPv6 extension chain): 6, 17, 1, 58, or any other.</summary>
    public byte Protocol;

    /// <summary>Whether the packet is a fragment, and which one.</summary>
    public FragmentState Fragment;

    /// <summary>Layer presence bits.</summary>
    public PacketFlags Flags;

    /// <summary><see cref="DropReason.None"/> when the packet may be translated, else why it must be dropped.</summary>
    public DropReason Verdict;

    /// <summary>
    /// Where the translation stage sends the packet: 0 for its binding's port, <c>k</c> for the binding's guest
    /// <c>k - 1</c> (the guest that owns the translated (tenant, destination)). The parser sets 0.
    /// </summary>
    public byte Egress;

    /// <summary>Reserved; keeps the record at <see cref="Size"/> bytes.</summary>
    public uint Reserved1;
}
