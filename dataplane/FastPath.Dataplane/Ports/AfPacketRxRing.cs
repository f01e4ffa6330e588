namespace FastPath.Dataplane.Ports;

/// <summary>Which kind of memory-mapped RX ring an <see cref="AfPacketPort"/> reads.</summary>
public enum AfPacketRxRing
{
    /// <summary>
    /// TPACKET_V2 (the default): fixed 68 KiB frames, each handed over by its own status word the moment the kernel has
    /// written it. No added latency at any rate; holds fewer frames (<see cref="AfPacketOptions.RingFrames"/>), and a
    /// frame that finds the ring full is dropped by the kernel and counted (PACKET_STATISTICS, the port's kernel drops).
    /// </summary>
    Frames,

    /// <summary>
    /// TPACKET_V3: variable-sized frames packed into blocks that are handed over whole, when full or when the retire
    /// timeout passes. Holds many more small frames per byte, but a lone frame waits for the timeout, which the kernel
    /// rounds up to whole jiffies (4 ms at CONFIG_HZ=250).
    /// </summary>
    Blocks,
}
