using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Rings;

/// <summary>
/// A bounded single-producer/single-consumer ring of unmanaged descriptors over native memory (its own,
/// or caller-provided such as a memfd shared with a guest), with no locks, no interlocked operations and
/// no allocation after construction.
/// </summary>
/// <remarks>
/// Concurrency: at any moment one thread may call the enqueue methods and one (other) thread the dequeue
/// methods; <see cref="Count"/> is a racy snapshot from either. Orderings follow DPDK
/// <c>rte_ring_c11_pvt.h</c> and are labelled in Rings/README.md: R0/A0 publish slots to the consumer,
/// R1/A1 return them to the producer. On x86-64 every one of them compiles to a plain load or store
/// (TSO); <see cref="Volatile"/> keeps the JIT from reordering or caching them.
/// </remarks>
internal sealed unsafe class SpscRing<T> : IDisposable
    where T : unmanaged
{
    private readonly RingCursors* _cursors;
    private readonly T* _slots;
    private readonly uint _mask;
    private readonly bool _ownsMemory;
    private void* _memory;

    /// <summary>Allocates a ring of <paramref name="capacity"/> (a power of two) slots; cursors start at <paramref name="startIndex"/>.</summary>
    internal SpscRing(uint capacity, uint startIndex = 0)
        : this(RingMemory.AllocateOwned<T>(capacity), capacity, initialize: true, startIndex, ownsMemory: true)
    {
    }

    private SpscRing(void* memory, uint capacity, bool initialize, uint startIndex, bool ownsMemory)
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

    /// <summary>Elements in the ring at some recent instant.</summary>
    internal uint Count => Volatile.Read(ref _cursors->ProducerTail) - Volatile.Read(ref _cursors->ConsumerTail);

    /// <summary>Formats an empty ring in <paramref name="memory"/> (64-byte aligned, <see cref="RingMemory.RequiredBytes{T}"/> long); the caller owns the memory.</summary>
    internal static SpscRing<T> Format(void* memory, uint capacity, uint startIndex = 0) => new(memory, capacity, initialize: true, startIndex, ownsMemory: false);

    /// <summary>Opens a ring that another party already formatted in <paramref name="memory"/> (the other end of a shared ring).</summary>
    internal static SpscRing<T> Attach(void* memory, uint capacity) => new(memory, capacity, initialize: false, 0, ownsMemory: false);

    /// <summary>Enqueues all of <paramref name="items"/> or none; producer thread only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryEnqueueBulk(ReadOnlySpan<T> items)
    {
        uint count = (uint)items.Length;
        uint head = _cursors->ProducerTail; // Own cursor: only this thread writes it.
        uint free = _mask + 1 + Volatile.Read(ref _cursors->ConsumerTail) - head; // A1: pairs with R1 in dequeue.
        free = Math.Min(free, _mask + 1); // A peer sharing the memory may have corrupted its cursor: never copy past the slots.
        if (count > free || count == 0)
        {
            return count == 0;
        }

        RingMemory.CopyIn(_slots, _mask, head, ref MemoryMarshal.GetReference(items), count);
        Volatile.Write(ref _cursors->ProducerTail, head + count); // R0: publishes the slots; pairs with A0.
        return true;
    }

    /// <summary>Enqueues as many of <paramref name="items"/> as fit and returns how many; producer thread only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int EnqueueBurst(ReadOnlySpan<T> items)
    {
        uint head = _cursors->ProducerTail;
        uint free = _mask + 1 + Volatile.Read(ref _cursors->ConsumerTail) - head; // A1
        uint count = Math.Min(Math.Min((uint)items.Length, free), _mask + 1);
        if (count == 0)
        {
            return 0;
        }

        RingMemory.CopyIn(_slots, _mask, head, ref MemoryMarshal.GetReference(items), count);
        Volatile.Write(ref _cursors->ProducerTail, head + count); // R0
        return (int)count;
    }

    /// <summary>Enqueues one item unless the ring is full; producer thread only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryEnqueue(T item)
    {
        uint head = _cursors->ProducerTail;
        if (head - Volatile.Read(ref _cursors->ConsumerTail) > _mask) // A1
        {
            return false;
        }

        _slots[head & _mask] = item;
        Volatile.Write(ref _cursors->ProducerTail, head + 1); // R0
        return true;
    }

    /// <summary>Dequeues exactly <c>items.Length</c> items or none; consumer thread only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryDequeueBulk(Span<T> items)
    {
        uint count = (uint)items.Length;
        uint tail = _cursors->ConsumerTail; // Own cursor: only this thread writes it.
        uint available = Volatile.Read(ref _cursors->ProducerTail) - tail; // A0: pairs with R0 in enqueue.
        available = Math.Min(available, _mask + 1);
        if (count > available || count == 0)
        {
            return count == 0;
        }

        RingMemory.CopyOut(_slots, _mask, tail, ref MemoryMarshal.GetReference(items), count);
        Volatile.Write(ref _cursors->ConsumerTail, tail + count); // R1: slots read; pairs with A1.
        return true;
    }

    /// <summary>Dequeues up to <c>items.Length</c> items and returns how many; consumer thread only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int DequeueBurst(Span<T> items)
    {
        uint tail = _cursors->ConsumerTail;
        uint available = Volatile.Read(ref _cursors->ProducerTail) - tail; // A0
        uint count = Math.Min(Math.Min((uint)items.Length, available), _mask + 1);
        if (count == 0)
        {
            return 0;
        }

        RingMemory.CopyOut(_slots, _mask, tail, ref MemoryMarshal.GetReference(items), count);
        Volatile.Write(ref _cursors->ConsumerTail, tail + count); // R1
        return (int)count;
    }

    /// <summary>Dequeues one item unless the ring is empty; consumer thread only.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool TryDequeue(out T item)
    {
        uint tail = _cursors->ConsumerTail;
        if (Volatile.Read(ref _cursors->ProducerTail) == tail) // A0
        {
            item = default;
            return false;
        }

        item = _slots[tail & _mask];
        Volatile.Write(ref _cursors->ConsumerTail, tail + 1); // R1
        return true;
    }

    public void Dispose()
    {
        if (_ownsMemory && _memory != null)
        {
            NativeMemory.AlignedFree(_memory);
            _memory = null;
        }
    }
}
