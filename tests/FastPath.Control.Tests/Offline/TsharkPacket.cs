namespace FastPath.Control.Tests.Offline;

/// <summary>One packet's <c>tshark -T fields</c> values (see <see cref="InspectOracleTests"/>), and what tshark thinks of it.</summary>
/// <remarks>Immutable.</remarks>
internal sealed class TsharkPacket(string[] values)
{
    private const string ErrorSeverity = "8388608";

    /// <summary>The fields to ask tshark for, in this order.</summary>
    public static readonly string[] Fields =
    [
        "frame.protocols", "vlan.id", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "ip.proto", "ipv6.nxt", "ipv6.hopopts.nxt",
        "ipv6.routing.nxt", "ipv6.fraghdr.nxt", "ipv6.dstopts.nxt", "udp.srcport", "udp.dstport", "tcp.srcport", "tcp.dstport",
        "_ws.malformed", "_ws.expert.severity", "ip.checksum.status", "_ws.expert.message",
    ];

    /// <summary>
    /// A dissector exception, an expert error, a bad IPv4 header checksum, or an IPv6 payload length past the frame
    /// (which tshark 4.0 rates only a warning, but which leaves the packet without its stated bytes).
    /// </summary>
    public bool Malformed =>
        First("_ws.malformed") is not null
        || All("_ws.expert.severity").Contains(ErrorSeverity)
        || First("ip.checksum.status") == "0"
        || (First("_ws.expert.message")?.Contains("IPv6 payload length exceeds framing length", StringComparison.Ordinal) ?? false);

    public string? First(string field) => All(field).FirstOrDefault();

    /// <summary>The transport protocol number after the IPv6 extension chain, as tshark's layer list names it.</summary>
    public string? Protocol(string family)
    {
        string[] layers = First("frame.protocols")!.Split(':');
        foreach (string layer in layers.Reverse())
        {
            switch (layer)
            {
                case "udp": return "17";
                case "tcp": return "6";
                case "icmp": return "1";
                case "icmpv6": return "58";
            }
        }

        if (family == "ipv4")
        {
            return First("ip.proto");
        }

        // The last extension header in the chain names the protocol; a header type that repeats lists its values in order.
        string? last = layers.LastOrDefault(l => l.StartsWith("ipv6.", StringComparison.Ordinal));
        return All(last is null ? "ipv6.nxt" : last + ".nxt").LastOrDefault();
    }

    private IEnumerable<string> All(string field)
    {
        string value = values[Array.IndexOf(Fields, field)];
        return value.Length == 0 ? [] : value.Split(',');
    }
}
