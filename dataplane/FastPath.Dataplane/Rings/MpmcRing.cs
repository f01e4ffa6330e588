using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Rings;

/// <summary>
/// A bounded multi-producer/multi-consumer ring of unmanaged descriptors over native memory: each side
/// reserves slots with one CAS on its head, copies, then publishes its tail in reservation order
/// (DPDK's MP/MC <c>rte_ring</c>), so no locks and no allocation.
/// </summary>
/// <remarks>
/// Concurrency: any number of threads may enqueue and dequeue at once. A thread that is preempted between
/// reservation and publication holds up later publishers of its side (they spin, then yield) but never
/// corrupts the ring — the price DPDK also pays for in-order tails. Orderings are labelled as in
/// Rings/README.md.
/// </remarks>
internal sealed unsafe class MpmcRing<T> : IDisposable
    where T : unmanaged
{
    private readonly RingCursors* _cursors;
    private readonly T* _slots;
    private readonly uint _mask;
    private readonly bool _ownsMemory;
    private void* _memory;

    /// <summary>Allocates a ring of <paramref name="capacity"/> (a power of two) slots; cursors start at <paramref name="startIndex"/>.</summary>
    internal MpmcRing(uint capacity, uint startIndex = 0)
        : this(RingMemory.AllocateOwned<T>(capacity), capacity, initialize: true, startIndex, ownsMemory: true)
    {
    }

    private MpmcRing(void* memory, uint capacity, bool initialize, uint startIndex, bool ownsMemory)
    {
        RingMemory.ValidateCapacity(capacity);
        RingMemory.ValidatePlacement(memory);
        _memory = memory;
        _cursors = (RingCursors*)memory;
        _slots = (T*)((byte*)memory + RingCursors.Size);
        _mask = capacity - 1;
        _ownsMemory = ownsMemory;
        if (initialize)
        {
            _cursors->Reset(startIndex);
        }
    }

    internal uint Capacity => _mask + 1;

    /// <summary>Published elements at some recent instant.</summary>
    internal uint Count => Volatile.Read(ref _cursors->ProducerTail) - Volatile.Read(ref _cursors->ConsumerTail);

    /// <inheritdoc cref="SpscRing{T}.Format"/>
    internal static MpmcRing<T> Format(void* memory, uint capacity, uint startIndex = 0) => new(memory, capacity, initialize: true, startIndex, ownsMemory: false);

    /// <inheritdoc cref="SpscRing{T}.Attach"/>
    internal static MpmcRing<T> Attach(void* memory, uint capacity) => new(memory, capacity, initialize: false, 0, ownsMemory: false);

    /// <summary>Enqueues all of <paramref name="items"/> or none.</summary>
    internal bool TryEnqueueBulk(ReadOnlySpan<T> items) =>
        items.IsEmpty || Enqueue(ref MemoryMarshal.GetReference(items), (uint)items.Length, exact: true) != 0;

    /// <summary>Enqueues as many of <paramref name="items"/> as fit and returns how many.</summary>
    internal int EnqueueBurst(ReadOnlySpan<T> items) =>
        items.IsEmpty ? 0 : (int)Enqueue(ref MemoryMarshal.GetReference(items), (uint)items.Length, exact: false);

    /// <summary>Enqueues one item unless the ring is full.</summary>
    internal bool TryEnqueue(T item) => Enqueue(ref item, 1, exact: true) != 0;

    /// <summary>Dequeues exactly <c>items.Length</c> items or none.</summary>
    internal bool TryDequeueBulk(Span<T> items) =>
        items.IsEmpty || Dequeue(ref MemoryMarshal.GetReference(items), (uint)items.Length, exact: true) != 0;

    /// <summary>Dequeues up to <c>items.Length</c> items and returns how many.</summary>
    internal int DequeueBurst(Span<T> items) =>
        items.IsEmpty ? 0 : (int)Dequeue(ref MemoryMarshal.GetReference(items), (uint)items.Length, exact: false);

    /// <summary>Dequeues one item unless the ring is empty.</summary>
    internal bool TryDequeue(out T item)
    {
        item = default;
        return Dequeue(ref item, 1, exact: true) != 0;
    }

    public void Dispose()
    {
        if (_ownsMemory && _memory != null)
        {
            NativeMemory.AlignedFree(_memory);
            _memory = null;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Enqueue(ref T source, uint requested, bool exact)
    {
        uint capacity = _mask + 1;
        uint head = Volatile.Read(ref _cursors->ProducerHead);
        uint count;
        while (true)
        {
            // A1: pairs with the consumers' R1 tail store, so slots up to ConsumerTail are no longer read.
            uint free = Math.Min(capacity + Volatile.Read(ref _cursors->ConsumerTail) - head, capacity);
            count = Math.Min(requested, free);
            if (count == 0 || (exact && count != requested))
            {
                return 0;
            }

            // Reserve [head, head + count): the CAS is a full barrier, so the ConsumerTail read above cannot
            // be satisfied after it; a failed CAS returns the newer head to retry from.
            uint seen = Interlocked.CompareExchange(ref _cursors->ProducerHead, head + count, head);
            if (seen == head)
            {
                break;
            }

            head = seen;
        }

        if (requested == 1)
        {
            _slots[head & _mask] = source; // Folded away for bulk calls: requested is a constant after inlining.
        }
        else
        {
            RingMemory.CopyIn(_slots, _mask, head, ref source, count);
        }

        WaitForTurn(ref _cursors->ProducerTail, head);
        Volatile.Write(ref _cursors->ProducerTail, head + count); // R0: publishes the slots; pairs with the consumers' A0.
        return count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Dequeue(ref T destination, uint requested, bool exact)
    {
        uint head = Volatile.Read(ref _cursors->ConsumerHead);
        uint count;
        while (true)
        {
            // A0: pairs with the producers' R0 tail store, so slots below ProducerTail are written.
            uint available = Math.Min(Volatile.Read(ref _cursors->ProducerTail) - head, _mask + 1);
            count = Math.Min(requested, available);
            if (count == 0 || (exact && count != requested))
            {
                return 0;
            }

            uint seen = Interlocked.CompareExchange(ref _cursors->ConsumerHead, head + count, head);
            if (seen == head)
            {
                break;
            }

            head = seen;
        }

        if (requested == 1)
        {
            destination = _slots[head & _mask];
        }
        else
        {
            RingMemory.CopyOut(_slots, _mask, head, ref destination, count);
        }

        WaitForTurn(ref _cursors->ConsumerTail, head);
        Volatile.Write(ref _cursors->ConsumerTail, head + count); // R1: slots read; pairs with the producers' A1.
        return count;
    }

    /// <summary>Waits until every earlier reservation of this side has published (tail reaches <paramref name="mine"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WaitForTurn(ref uint tail, uint mine)
    {
        if (Volatile.Read(ref tail) != mine) // A: the earlier reservation's copy is complete once its tail store is seen.
        {
            WaitForTurnSlow(ref tail, mine);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void WaitForTurnSlow(ref uint tail, uint mine)
    {
        // Spin briefly, then yield: with more threads than cores the earlier publisher may be off-CPU.
        SpinWait spinner = default;
        while (Volatile.Read(ref tail) != mine)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }
}
