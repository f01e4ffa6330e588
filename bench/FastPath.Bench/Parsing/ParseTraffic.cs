namespace FastPath.Bench.Parsing;

/// <summary>The packet mixes the parser benchmark runs over.</summary>
public enum ParseTraffic
{
    /// <summary>64-byte untagged IPv4/UDP frames.</summary>
    Ipv4Udp,

    /// <summary>74-byte untagged IPv6/TCP frames (the smallest IPv6/TCP frame: 14 + 40 + 20).</summary>
    Ipv6Tcp,

    /// <summary>64-byte IPv4 frames, half behind an 802.1Q tag, UDP and TCP, in a fixed pseudo-random order.</summary>
    VlanIpv4Mix,
}
