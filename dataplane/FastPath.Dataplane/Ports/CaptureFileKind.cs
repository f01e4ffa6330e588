namespace FastPath.Dataplane.Ports;

/// <summary>The container format of a capture file.</summary>
public enum CaptureFileKind
{
    /// <summary>Classic libpcap format (24-byte file header, 16-byte record headers).</summary>
    Pcap,

    /// <summary>pcapng (blocks: SHB, IDB, EPB, SPB, ...).</summary>
    PcapNg,
}
