namespace FastPath.Dataplane;

/// <summary>
/// Why a packet was not forwarded. Declared once: it indexes the per-worker drop counters and gives
/// the names that the CLI, JSON output and Prometheus labels print (<see cref="DropReasons.Name"/>).
/// </summary>
/// <remarks>
/// Lives at the root of the data plane because every stage produces drops (Parsing, Rewrite,
/// Pipeline, Guest) and the folders only depend downwards. Values are dense from 0 so that counters
/// are an array indexed by reason; <see cref="None"/> (0) means "forwarded".
/// </remarks>
public enum DropReason : byte
{
    /// <summary>Not dropped.</summary>
    None = 0,

    /// <summary>The frame ends inside a header that the packet's layers require (an ICMP error's quote included: both quoted addresses are required).</summary>
    Truncated,

    /// <summary>The EtherType is neither IPv4 nor IPv6 (ARP, LLDP, ...).</summary>
    NotIp,

    /// <summary>The IP version nibble does not match the EtherType, or an ICMP error quotes a packet of the other IP version.</summary>
    BadVersion,

    /// <summary>IPv4 IHL below 5, in the packet or in the header an ICMP error quotes.</summary>
    BadIhl,

    /// <summary>An IP or L4 length field disagrees with the frame (total length past the frame, below the header, ...).</summary>
    BadLength,

    /// <summary>The IPv4 header checksum does not verify.</summary>
    BadChecksum,

    /// <summary>TTL or hop limit was 1 or 0 on arrival.</summary>
    TtlExceeded,

    /// <summary>
    /// No mapping for the packet's key (user → secure: source; secure → user: destination), or for the address an ICMP
    /// error quotes from this side (user → secure: quoted destination; secure → user: quoted source, within the tenant).
    /// </summary>
    NoMapping,

    /// <summary>The IPv6 extension-header chain is longer than the parser walks.</summary>
    ExtChainTooLong,

    /// <summary>A valid packet the data plane does not handle (QinQ / 802.1ad outer tags, ...).</summary>
    Unsupported,

    /// <summary>The egress ring or port had no room; dropped and counted instead of blocking.</summary>
    TxFull,

    /// <summary>A guest descriptor named a frame the guest does not own, or a length past its slot.</summary>
    BadDescriptor,

    /// <summary>A guest transmit descriptor named a flow that has no mapping.</summary>
    UnknownFlow,

    /// <summary>The frame is larger than its egress (or a receive buffer, or a guest's frame) can carry.</summary>
    TooBig,

    /// <summary>
    /// The kernel found an AF_PACKET port's RX ring full and dropped the frame before FastPath saw it (PACKET_STATISTICS
    /// <c>tp_drops</c>). Counted from the kernel's statistics when counters are read, never by the worker, and never in a
    /// capture: the frame was not received.
    /// </summary>
    RxRingFull,
}
