using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Rewrite;

/// <summary>
/// Where the packet quoted inside an ICMP or ICMPv6 error sits in the frame, as <see cref="IcmpErrorQuote.Locate"/>
/// found it. Offsets count from the first byte of the Ethernet header, like <see cref="Parsing.PacketMeta"/>'s.
/// </summary>
/// <remarks>Plain value owned by the thread that located it.</remarks>
[StructLayout(LayoutKind.Auto)]
internal struct QuotedPacket
{
    /// <summary>Offset of the quoted source address.</summary>
    public ushort SourceOffset;

    /// <summary>Offset of the quoted destination address.</summary>
    public ushort DestinationOffset;

    /// <summary>Offset of the quoted IPv4 header checksum; 0 for IPv6, which has none.</summary>
    public ushort HeaderChecksumOffset;

    /// <summary>
    /// Offset of the quoted transport checksum that covers the addresses through the pseudo-header (UDP, TCP, ICMPv6
    /// under IPv6), or 0 when the quote does not reach it, the quoted packet is a non-first fragment, or its protocol
    /// has no pseudo-header.
    /// </summary>
    public ushort L4ChecksumOffset;

    /// <summary>The quoted transport checksum is an IPv4 UDP one, where 0 means "none" and stays 0.</summary>
    public bool ZeroMeansNone;
}
