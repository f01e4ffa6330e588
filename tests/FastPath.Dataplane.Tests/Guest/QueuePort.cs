using System.Collections.Concurrent;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports;

namespace FastPath.Dataplane.Tests.Guest;

/// <summary>An in-memory port for guest tests: frames the test queues come out of Receive; frames transmitted are copied into <see cref="Sent"/>.</summary>
/// <remarks>Thread-safe between the test thread (queue, read) and the worker thread (Receive, Transmit).</remarks>
internal sealed unsafe class QueuePort(string name) : PacketPort(name)
{
    private readonly ConcurrentQueue<(byte[] Frame, FrameOffload Offload)> _input = new();

    private const int LargeSize = 1 << 16;
    private readonly byte* _large = (byte*)System.Runtime.InteropServices.NativeMemory.Alloc(LargeSize);

    public ConcurrentQueue<byte[]> Sent { get; } = new();

    public void Enqueue(byte[] frame, FrameOffload offload = default) => _input.Enqueue((frame, offload));

    public override int Receive(ReadOnlySpan<RxBuffer> buffers, Span<FrameView> frames)
    {
        int count = 0;
        bool large = false;
        while (count < buffers.Length && !large && _input.TryDequeue(out (byte[] Frame, FrameOffload Offload) next))
        {
            // A frame longer than the worker's buffer (a super-frame) is handed out from the port's own memory, as an
            // AF_PACKET ring does: valid until the next Receive, so at most one per call.
            large = next.Frame.Length > buffers[count].Capacity;
            byte* data = large ? _large + 64 : buffers[count].Data;
            next.Frame.CopyTo(new Span<byte>(data, large ? LargeSize - 64 : buffers[count].Capacity));
            frames[count] = new FrameView(data, next.Frame.Length, next.Offload);
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

    protected override void Dispose(bool disposing)
    {
        System.Runtime.InteropServices.NativeMemory.Free(_large);
        base.Dispose(disposing);
    }
}
