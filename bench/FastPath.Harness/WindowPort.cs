using System.Runtime.InteropServices;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports;

namespace FastPath.Harness;

/// <summary>
/// The secure side of the guest allocation test and of the guest echo benchmark (which compiles this file): emits one prebuilt frame as long as a budget lasts and fewer than
/// <see cref="Window"/> are unanswered; counts what comes back on transmit.
/// </summary>
/// <remarks>Receive and Transmit run on the worker thread; the benchmark thread sets the budget and reads the count (Volatile).</remarks>
public sealed unsafe class WindowPort : PacketPort
{
    public const int Window = 192;

    private readonly byte* _frame;
    private readonly int _length;
    private long _budget;
    private long _sent;
    private long _echoed;

    public WindowPort(byte[] frame)
        : base("s0")
    {
        _length = frame.Length;
        _frame = (byte*)NativeMemory.Alloc((nuint)frame.Length);
        frame.CopyTo(new Span<byte>(_frame, frame.Length));
    }

    public long Echoed => Volatile.Read(ref _echoed);

    public void Grant(long packets) => Interlocked.Add(ref _budget, packets);

    public override int Receive(ReadOnlySpan<RxBuffer> buffers, Span<FrameView> frames)
    {
        long budget = Volatile.Read(ref _budget);
        long open = Window - (_sent - _echoed);
        int count = (int)Math.Min(Math.Min(buffers.Length, budget - _sent), open);
        for (int i = 0; i < count; i++)
        {
            Buffer.MemoryCopy(_frame, buffers[i].Data, buffers[i].Capacity, _length);
            frames[i] = new FrameView(buffers[i].Data, _length);
        }

        _sent += Math.Max(count, 0);
        return Math.Max(count, 0);
    }

    public override int Transmit(ReadOnlySpan<FrameView> frames, ReadOnlySpan<PacketMeta> meta)
    {
        Volatile.Write(ref _echoed, _echoed + frames.Length);
        return frames.Length;
    }

    protected override void Dispose(bool disposing)
    {
        NativeMemory.Free(_frame);
        base.Dispose(disposing);
    }
}
