namespace FastPath.Dataplane.Ports;

/// <summary>What one port has received, sent and dropped, as totals since it opened.</summary>
/// <remarks>
/// Concurrency: the port's owner thread is the only writer of the traffic counters and adds once per batch; the
/// kernel counters are written only under the port's statistics lock. Any thread may read: 64-bit reads are
/// atomic on x86-64, so a reader sees each counter whole, possibly a batch behind.
/// </remarks>
public sealed class PortCounters
{
    internal long _rxPackets;
    internal long _rxBytes;
    internal long _rxTooBig;
    internal long _rxChecksumPartial;
    internal long _txPackets;
    internal long _txBytes;
    internal long _txInvalid;
    internal long _txTooBig;
    internal long _txErrors;
    internal int _txLastErrno;
    internal long _kernelPackets;
    internal long _kernelDrops;
    internal long _kernelFreezes;

    /// <summary>Frames handed to the caller.</summary>
    public long RxPackets => Volatile.Read(ref _rxPackets);

    /// <summary>Bytes of the frames handed to the caller.</summary>
    public long RxBytes => Volatile.Read(ref _rxBytes);

    /// <summary>Frames dropped because they were longer than the caller's buffer or than the ring could hold (also counted as the <c>too-big</c> drop).</summary>
    public long RxTooBig => Volatile.Read(ref _rxTooBig);

    /// <summary>
    /// Frames received with a checksum still to be filled in (TP_STATUS_CSUMNOTREADY): a local sender on the other
    /// end offloaded it. The frame carries <see cref="Parsing.OffloadFlags.ChecksumPartial"/> to its egress, which hands
    /// the work back to the kernel (AF_PACKET) or completes it in software (<see cref="ChecksumCompletion"/>).
    /// </summary>
    public long RxChecksumPartial => Volatile.Read(ref _rxChecksumPartial);

    /// <summary>Frames the kernel accepted for sending.</summary>
    public long TxPackets => Volatile.Read(ref _txPackets);

    /// <summary>Bytes of the frames the kernel accepted.</summary>
    public long TxBytes => Volatile.Read(ref _txBytes);

    /// <summary>Frames refused before reaching the kernel: shorter than an Ethernet header or longer than the MTU allows.</summary>
    public long TxInvalid => Volatile.Read(ref _txInvalid);

    /// <summary>Frames refused because they are longer than the egress MTU allows and cannot be segmented (also counted as the <c>too-big</c> drop).</summary>
    public long TxTooBig => Volatile.Read(ref _txTooBig);

    /// <summary>Send calls the kernel refused for a reason other than back-pressure (ENETDOWN: link down); the frames stay the caller's.</summary>
    public long TxErrors => Volatile.Read(ref _txErrors);

    /// <summary>The errno of the last counted <see cref="TxErrors"/> failure, 0 if none.</summary>
    public int TxLastErrno => Volatile.Read(ref _txLastErrno);

    /// <summary>Frames the kernel offered the socket, ring drops included (PACKET_STATISTICS tp_packets), AF_PACKET only.</summary>
    public long KernelPackets => Volatile.Read(ref _kernelPackets);

    /// <summary>Frames the kernel dropped because the RX ring was full (PACKET_STATISTICS tp_drops), AF_PACKET only.</summary>
    public long KernelDrops => Volatile.Read(ref _kernelDrops);

    /// <summary>Times the RX ring froze with every block owned by user space (tp_freeze_q_cnt), AF_PACKET only.</summary>
    public long KernelFreezes => Volatile.Read(ref _kernelFreezes);
}
