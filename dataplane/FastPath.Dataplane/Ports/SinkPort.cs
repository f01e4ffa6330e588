using FastPath.Dataplane.Parsing;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// An in-memory traffic sink for benchmarks: accepts every frame and counts it, like a NIC whose TX never fills.
/// Concurrency: one worker thread transmits; <see cref="Packets"/> and <see cref="Bytes"/> are read anywhere.
/// </summary>
public sealed class SinkPort(string name) : PacketPort(name)
{
    private long _packets;
    private long _bytes;

    /// <summary>Frames accepted.</summary>
    public long Packets => Volatile.Read(ref _packets);

    /// <summary>Bytes accepted.</summary>
    public long Bytes => Volatile.Read(ref _bytes);

    /// <inheritdoc />
    public override int Receive(ReadOnlySpan<RxBuffer> buffers, Span<int> lengths) => 0;

    /// <inheritdoc />
    public override int Transmit(ReadOnlySpan<FrameView> frames)
    {
        long bytes = 0;
        foreach (FrameView frame in frames)
        {
            bytes += frame.Length;
        }

        Volatile.Write(ref _bytes, _bytes + bytes);
        Volatile.Write(ref _packets, _packets + frames.Length);
        return frames.Length;
    }
}
