namespace FastPath.Dataplane.Pipeline;

/// <summary>The MACs a translated frame leaves with: the egress port's own MAC as source, its peer's as destination.</summary>
public unsafe struct EgressMacs
{
    /// <summary>Egress port MAC, written as the Ethernet source.</summary>
    public fixed byte Source[6];

    /// <summary>Peer MAC, written as the Ethernet destination.</summary>
    public fixed byte Destination[6];

    /// <summary>Builds from two 6-byte MAC addresses.</summary>
    public static EgressMacs Create(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination)
    {
        if (source.Length != 6 || destination.Length != 6)
        {
            throw new ArgumentException("a MAC address has 6 bytes");
        }

        var macs = default(EgressMacs);
        source.CopyTo(new Span<byte>(macs.Source, 6));
        destination.CopyTo(new Span<byte>(macs.Destination, 6));
        return macs;
    }
}
