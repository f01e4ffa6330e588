namespace FastPath.Dataplane.Ports;

/// <summary>What a capture writer must reproduce so that its output is "in the input's format".</summary>
/// <param name="Kind">pcap or pcapng.</param>
/// <param name="Nanoseconds">Timestamps in nanoseconds (pcap magic 0xa1b23c4d, pcapng <c>if_tsresol</c> 9) rather than microseconds.</param>
/// <param name="SnapLength">Snap length to declare in the file or interface header.</param>
public readonly record struct CaptureFormat(CaptureFileKind Kind, bool Nanoseconds, int SnapLength = CaptureFormat.MaxSnapLength)
{
    /// <summary>
    /// The largest record we accept or write: Wireshark's <c>WTAP_MAX_PACKET_SIZE_STANDARD</c> (262144).
    /// A larger caplen is what a corrupt or hostile file looks like, so it is an error, not an allocation.
    /// </summary>
    public const int MaxSnapLength = 262144;

    /// <summary>Link type Ethernet (LINKTYPE_ETHERNET), the only one the data plane reads.</summary>
    public const int LinkTypeEthernet = 1;
}
