using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using FastPath.Dataplane.Memory;

namespace FastPath.Dataplane.Rings;

/// <summary>Geometry shared by the ring types: capacity rules, bytes needed, slot placement, wrap-split copies.</summary>
/// <remarks>Stateless; safe from any thread.</remarks>
internal static unsafe class RingMemory
{
    /// <summary>The largest capacity: half the cursor space, so "full" and "empty" stay distinguishable by subtraction.</summary>
    internal const uint MaxCapacity = 1u << 30;

    /// <summary>Bytes a ring of <paramref name="capacity"/> elements needs (cursors, then slots), for callers placing it in shared memory.</summary>
    internal static nuint RequiredBytes<T>(uint capacity)
        where T : unmanaged
    {
        ValidateCapacity(capacity);
        return (nuint)RingCursors.Size + ((nuint)capacity * (nuint)sizeof(T));
    }

    internal static void ValidateCapacity(uint capacity)
    {
        if (capacity < 2 || capacity > MaxCapacity || !BitOperations.IsPow2(capacity))
        {
            ThrowBadCapacity(capacity);
        }
    }

    /// <summary>Checks that caller-provided memory is cache-line aligned, so the cursor pairs land on their own lines.</summary>
    internal static void ValidatePlacement(void* memory)
    {
        if (memory == null || ((nuint)memory & (CacheLine.Size - 1)) != 0)
        {
            throw new ArgumentException($"ring memory at 0x{(nuint)memory:x} is not {CacheLine.Size}-byte aligned", nameof(memory));
        }
    }

    internal static void* AllocateOwned<T>(uint capacity)
        where T : unmanaged
    {
        nuint bytes = RequiredBytes<T>(capacity);
        void* memory = NativeMemory.AlignedAlloc(bytes, CacheLine.PrefetchPair);
        NativeMemory.Clear(memory, RingCursors.Size);
        return memory;
    }

    // Ref-based copies, not pointers: the span may sit in a movable managed array.
    /// <summary>Copies <paramref name="count"/> items into the slots starting at cursor <paramref name="head"/>, split at the end of the slot array.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CopyIn<T>(T* slots, uint mask, uint head, ref T source, uint count)
        where T : unmanaged
    {
        uint index = head & mask;
        uint first = Math.Min(count, mask + 1 - index);
        Copy(ref *(byte*)(slots + index), ref Unsafe.As<T, byte>(ref source), first * (nuint)sizeof(T));
        if (first != count)
        {
            Copy(ref *(byte*)slots, ref Unsafe.As<T, byte>(ref Unsafe.Add(ref source, first)), (count - first) * (nuint)sizeof(T));
        }
    }

    /// <summary>Copies <paramref name="count"/> items out of the slots starting at cursor <paramref name="tail"/>, split at the end of the slot array.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CopyOut<T>(T* slots, uint mask, uint tail, ref T destination, uint count)
        where T : unmanaged
    {
        uint index = tail & mask;
        uint first = Math.Min(count, mask + 1 - index);
        Copy(ref Unsafe.As<T, byte>(ref destination), ref *(byte*)(slots + index), first * (nuint)sizeof(T));
        if (first != count)
        {
            Copy(ref Unsafe.As<T, byte>(ref Unsafe.Add(ref destination, first)), ref *(byte*)slots, (count - first) * (nuint)sizeof(T));
        }
    }

    /// <summary>
    /// Copies between a caller's buffer and the slots (never overlapping): 32-byte vectors with an overlapped
    /// last one, inline, instead of a call to memmove whose entry costs as much as a whole 256-byte burst.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Copy(ref byte destination, ref byte source, nuint bytes)
    {
        if (Vector256.IsHardwareAccelerated && bytes >= (nuint)Vector256<byte>.Count)
        {
            nuint last = bytes - (nuint)Vector256<byte>.Count;
            for (nuint offset = 0; offset < last; offset += (nuint)Vector256<byte>.Count)
            {
                Vector256.LoadUnsafe(ref source, offset).StoreUnsafe(ref destination, offset);
            }

            Vector256.LoadUnsafe(ref source, last).StoreUnsafe(ref destination, last);
            return;
        }

        CopyScalar(ref destination, ref source, bytes);
    }

    /// <summary>The scalar twin of <see cref="Copy"/> (and its path for short copies or without AVX2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CopyScalar(ref byte destination, ref byte source, nuint bytes) =>
        Unsafe.CopyBlockUnaligned(ref destination, ref source, (uint)bytes);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadCapacity(uint capacity) =>
        throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"ring capacity must be a power of two between 2 and {MaxCapacity}");
}
