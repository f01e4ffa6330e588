using System.Collections.Concurrent;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports;

namespace FastPath.Dataplane.Tests.Guest;

/// <summary>An in-memory port for guest tests: frames the test queues come out of Receive; frames transmitted are copied into <see cref="Sent"/>.</summary>
/// <remarks>Thread-safe between the test thread (queue, read) and the worker thread (Receive, Transmit).</remarks>
internal sealed unsafe class QueuePort(string name) : PacketPort(name)
{
    private readonly ConcurrentQueue<byte[]> _input = new();

    public ConcurrentQueue<byte[]> Sent { get; } = new();

    public void Enqueue(byte[] frame) => _input.Enqueue(frame);

    public override int Receive(ReadOnlySpan<RxBuffer> buffers, Span<FrameView> frames)
    {
        int count = 0;
        while (count < buffers.Length && _input.TryDequeue(out byte[]? frame))
        {
            frame.CopyTo(new Span<byte>(buffers[count].Data, buffers[count].Capacity));
            frames[count] = new FrameView(buffers[count].Data, frame.Length);
            count++;
        }

        return count;
    }

    public override int Transmit(ReadOnlySpan<FrameView> frames, ReadOnlySpan<PacketMeta> meta)
    {
        foreach (FrameView frame in frames)
        {
            Sent.Enqueue(new ReadOnlySpan<byte>(frame.Data, frame.Length).ToArray());
        }

        return frames.Length;
    }
}
