using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Capture;

/// <summary>
/// One worker's bounded capture ring: fixed slots of a 24-byte record header and the first snaplen bytes of a frame.
/// A frame that finds the ring full is counted (<see cref="Drops"/>) and not taken; the worker never waits.
/// </summary>
/// <remarks>
/// Concurrency: single producer (the worker: <see cref="TryWrite"/>, <see cref="Publish"/>), single consumer (the
/// control thread: <see cref="Drain"/>). Free-running cursors; the producer publishes a batch's records with one
/// release store of <c>_tail</c> (A0, paired with the consumer's acquire load C0), the consumer frees slots with a
/// release store of <c>_head</c> (C1, paired with the producer's acquire load A1).
/// </remarks>
internal sealed class CaptureRing
{
    private const int HeaderBytes = 24;
    private readonly byte[] _slots;
    private readonly int _slotBytes;
    private readonly int _capacity;
    private long _head;
    private long _tail;
    private long _next;
    private long _drops;

    public CaptureRing(int capacity, int snapLength)
    {
        _capacity = capacity;
        _slotBytes = HeaderBytes + ((snapLength + 7) & ~7);
        _slots = GC.AllocateUninitializedArray<byte>(checked(capacity * _slotBytes), pinned: true);
    }

    /// <summary>Frames that did not fit.</summary>
    public long Drops => Volatile.Read(ref _drops);

    /// <summary>Copies one frame's first <paramref name="data"/> bytes into the next slot; false (and counted) when full.</summary>
    public bool TryWrite(long timestamp, CaptureDirection direction, DropReason reason, int originalLength, ReadOnlySpan<byte> data)
    {
        if (_next - Volatile.Read(ref _head) >= _capacity) // A1
        {
            Volatile.Write(ref _drops, _drops + 1);
            return false;
        }

        Span<byte> slot = _slots.AsSpan((int)(_next % _capacity) * _slotBytes, _slotBytes);
        BinaryPrimitives.WriteInt64LittleEndian(slot, timestamp);
        BinaryPrimitives.WriteInt32LittleEndian(slot[8..], originalLength);
        BinaryPrimitives.WriteInt32LittleEndian(slot[12..], data.Length);
        slot[16] = (byte)direction;
        slot[17] = (byte)reason;
        data.CopyTo(slot[HeaderBytes..]);
        _next++;
        return true;
    }

    /// <summary>Slots free now (an acquire load of the consumer's cursor, A1); the worker reads it once per batch.</summary>
    public int Room() => (int)(_capacity - (_next - Volatile.Read(ref _head)));

    /// <summary>Counts <paramref name="frames"/> that found no room, without offering them (the caller checked <see cref="Room"/>).</summary>
    public void CountDrops(int frames) => Volatile.Write(ref _drops, _drops + frames);

    /// <summary>Makes the records written since the last call visible to the consumer.</summary>
    public void Publish() => Volatile.Write(ref _tail, _next); // A0

    /// <summary>Hands up to <paramref name="max"/> published records to <paramref name="handler"/>, oldest first; returns how many.</summary>
    public int Drain(CaptureSession.FrameHandler handler, int max)
    {
        long head = _head;
        long count = Math.Min(Volatile.Read(ref _tail) - head, max); // C0
        for (long i = 0; i < count; i++)
        {
            ReadOnlySpan<byte> slot = _slots.AsSpan((int)((head + i) % _capacity) * _slotBytes, _slotBytes);
            int length = BinaryPrimitives.ReadInt32LittleEndian(slot[12..]);
            handler(new CapturedFrame(
                BinaryPrimitives.ReadInt64LittleEndian(slot),
                (CaptureDirection)slot[16],
                (DropReason)slot[17],
                BinaryPrimitives.ReadInt32LittleEndian(slot[8..]),
                slot.Slice(HeaderBytes, length)));
        }

        Volatile.Write(ref _head, head + count); // C1
        return (int)count;
    }
}
