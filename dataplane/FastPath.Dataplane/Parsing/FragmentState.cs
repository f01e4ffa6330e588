namespace FastPath.Dataplane.Parsing;

/// <summary>Fragment position of an IPv4 packet or an IPv6 packet with a Fragment header.</summary>
public enum FragmentState : byte
{
    /// <summary>Not a fragment.</summary>
    None = 0,

    /// <summary>Offset 0 with more fragments: carries the transport header.</summary>
    First = 1,

    /// <summary>Offset above 0: no transport header, only the IP header may be rewritten.</summary>
    NonFirst = 2,
}
