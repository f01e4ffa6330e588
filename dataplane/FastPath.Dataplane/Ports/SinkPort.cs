using FastPath.Dataplane.Parsing;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// An in-memory traffic sink for benchmarks: accepts every frame and counts it, like a NIC whose TX never fills.
/// Concurrency: one worker thread transmits; <see cref="Packets"/> and <see cref="Bytes"/> are read anywhere.
/// </summary>
public sealed class SinkPort(string name) : PacketPort(name)
{
    /// <summary>Frames accepted.</summary>
    public long Packets => Counters.TxPackets;

    /// <summary>Bytes accepted.</summary>
    public long Bytes => Counters.TxBytes;

    /// <inheritdoc />
    public override int Receive(ReadOnlySpan<RxBuffer> buffers, Span<FrameView> frames) => 0;

    /// <inheritdoc />
    public override int Transmit(ReadOnlySpan<FrameView> frames, ReadOnlySpan<PacketMeta> meta)
    {
        long bytes = 0;
        foreach (FrameView frame in frames)
        {
            bytes += frame.Length;
        }

        PortCounters counters = Counters;
        Volatile.Write(ref counters._txBytes, counters._txBytes + bytes);
        Volatile.Write(ref counters._txPackets, counters._txPackets + frames.Length);
        return frames.Length;
    }
}
