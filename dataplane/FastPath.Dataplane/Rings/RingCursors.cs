using System.Runtime.InteropServices;
using FastPath.Dataplane.Memory;

namespace FastPath.Dataplane.Rings;

/// <summary>
/// The shared state of a ring, placed in front of its slots: producer head/tail in the first 128-byte
/// line pair, consumer head/tail in the second, so the two sides never write the same line (nor the same
/// adjacent-line prefetch pair). Cursors are free-running <see cref="uint"/>s masked on access; their
/// difference is the fill level even across the 2^32 wrap.
/// </summary>
/// <remarks>
/// Concurrency: each side writes only its own pair; the other side reads it with acquire semantics.
/// SPSC rings use only the tails (the head is the side's own tail); MPMC rings reserve with a CAS on the
/// head and publish in reservation order through the tail (DPDK <c>rte_ring_c11_pvt.h</c>).
/// Nothing else is kept here (no capacity, no mask): a ring in memory shared with another process reads
/// its geometry from its own fields, so a peer that scribbles on this block can corrupt cursors, not
/// make the ring index outside its slots.
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = Size)]
internal struct RingCursors
{
    internal const int Size = 2 * CacheLine.PrefetchPair;

    [FieldOffset(0)]
    internal uint ProducerHead;

    [FieldOffset(4)]
    internal uint ProducerTail;

    [FieldOffset(CacheLine.PrefetchPair)]
    internal uint ConsumerHead;

    [FieldOffset(CacheLine.PrefetchPair + 4)]
    internal uint ConsumerTail;

    /// <summary>Sets all four cursors to <paramref name="start"/> (an empty ring); only before either side runs.</summary>
    internal void Reset(uint start)
    {
        ProducerHead = start;
        ProducerTail = start;
        ConsumerHead = start;
        ConsumerTail = start;
    }
}
