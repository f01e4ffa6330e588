namespace FastPath.Dataplane.Parsing;

/// <summary>Which optional layers a frame carries.</summary>
[Flags]
public enum PacketFlags : byte
{
    /// <summary>Nothing optional.</summary>
    None = 0,

    /// <summary>One 802.1Q tag sits between the MAC addresses and the EtherType.</summary>
    Vlan = 1,

    /// <summary>The IPv4 header has options (IHL above 5).</summary>
    Ipv4Options = 2,

    /// <summary>The IPv6 header is followed by at least one extension header.</summary>
    Ipv6Extensions = 4,

    /// <summary>The transport header was fully present and its ports were read.</summary>
    Transport = 8,
}
