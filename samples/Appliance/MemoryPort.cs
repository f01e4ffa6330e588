using System.Collections.Concurrent;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports;

namespace Appliance;

/// <summary>
/// The appliance's own port: frames it is given come out of <see cref="Receive"/>, frames the data plane sends are
/// copied into <see cref="Sent"/>. A real appliance would put its NIC, its ring or its hypervisor queue here.
/// </summary>
/// <remarks>
/// The worker thread calls <see cref="Receive"/> and <see cref="Transmit"/>; <see cref="Enqueue"/> and <see cref="Sent"/>
/// are for any other thread. Counting goes through <see cref="PacketPort.CountReceived"/> and
/// <see cref="PacketPort.CountSent"/>, so the port's counters are the pipeline's too.
/// </remarks>
internal sealed unsafe class MemoryPort(string name) : PacketPort(name)
{
    private readonly ConcurrentQueue<byte[]> _input = new();

    public ConcurrentQueue<byte[]> Sent { get; } = new();

    public void Enqueue(byte[] frame) => _input.Enqueue(frame);

    public override int Receive(ReadOnlySpan<RxBuffer> buffers, Span<FrameView> frames)
    {
        int count = 0;
        long bytes = 0;
        while (count < buffers.Length && count < frames.Length && _input.TryPeek(out byte[]? next))
        {
            RxBuffer buffer = buffers[count];
            _input.TryDequeue(out _);
            if (next.Length > buffer.Capacity)
            {
                continue; // Longer than the worker's frame: a real port would count it; the sample never makes one.
            }

            next.CopyTo(new Span<byte>(buffer.Data, buffer.Capacity));
            frames[count++] = new FrameView(buffer.Data, next.Length);
            bytes += next.Length;
        }

        if (count > 0)
        {
            CountReceived(count, bytes);
        }

        return count;
    }

    public override int Transmit(ReadOnlySpan<FrameView> frames, ReadOnlySpan<PacketMeta> meta)
    {
        long bytes = 0;
        foreach (FrameView frame in frames)
        {
            Sent.Enqueue(new ReadOnlySpan<byte>(frame.Data, frame.Length).ToArray());
            bytes += frame.Length;
        }

        CountSent(frames.Length, bytes);
        return frames.Length;
    }
}
