using System.Net;
using System.Text;
using FastPath.Dataplane;
using FastPath.Dataplane.Parsing;

namespace FastPath.Control.Offline;

/// <summary>What one line of <c>fastpath inspect</c> says about a packet, read from the parser's record and the frame.</summary>
/// <remarks>Immutable.</remarks>
internal sealed record PacketSummary(string Layers, int? Vlan, string? Family, string? Source, string? Destination,
    int? Protocol, int? SourcePort, int? DestinationPort, string Fragment, DropReason Verdict)
{
    public static PacketSummary From(ReadOnlySpan<byte> frame, in PacketMeta meta)
    {
        var layers = new StringBuilder(frame.Length >= 14 ? "eth" : "-");
        int? vlan = null;
        if ((meta.Flags & PacketFlags.Vlan) != 0)
        {
            layers.Append("/vlan");
            vlan = meta.VlanId;
        }

        string? family = null;
        string? source = null;
        string? destination = null;
        int? protocol = null;
        if (meta.IpVersion != 0)
        {
            // The parser fills the address offsets once the fixed IP header is present, even for a packet it drops.
            int size = meta.IpVersion == 4 ? 4 : 16;
            family = meta.IpVersion == 4 ? "ipv4" : "ipv6";
            layers.Append('/').Append(family);
            source = new IPAddress(frame.Slice(meta.SourceOffset, size)).ToString();
            destination = new IPAddress(frame.Slice(meta.DestinationOffset, size)).ToString();

            // IPv4 carries the protocol in its fixed header; IPv6 names it only at the end of the extension chain.
            if (meta.IpVersion == 4 || meta.L4Offset != 0)
            {
                protocol = meta.Protocol;
            }
        }

        int? sourcePort = null;
        int? destinationPort = null;
        if ((meta.Flags & PacketFlags.Transport) != 0)
        {
            layers.Append('/').Append(meta.Protocol switch
            {
                6 => "tcp",
                17 => "udp",
                1 => "icmp",
                _ => "icmpv6",
            });
            if (meta.Protocol is 6 or 17)
            {
                sourcePort = meta.SourcePort;
                destinationPort = meta.DestinationPort;
            }
        }

        string fragment = meta.Fragment switch
        {
            FragmentState.First => "first",
            FragmentState.NonFirst => "non-first",
            _ => "none",
        };
        return new PacketSummary(layers.ToString(), vlan, family, source, destination, protocol, sourcePort, destinationPort, fragment, meta.Verdict);
    }
}
