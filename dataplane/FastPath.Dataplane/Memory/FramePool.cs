using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using FastPath.Dataplane.Rings;
using Microsoft.Win32.SafeHandles;

namespace FastPath.Dataplane.Memory;

/// <summary>
/// A fixed number of packet frames in one <see cref="GuardedRegion"/>: a header slab (segment 0) and a payload
/// slab (segment 1), each slot at a fixed offset, each slab its own memfd; free frames are indices in an MPMC ring,
/// so allocate and free are lock-free and allocation-free. The workers' pool is never shared with anyone; a guest
/// gets a pool of its own whose payload memfd alone (<see cref="PayloadFile"/>) is sent to that guest.
/// </summary>
/// <remarks>
/// Concurrency: any thread may allocate and free (RX allocates, TX frees, on different cores); a frame
/// belongs to whoever holds its index. Double frees are caught in DEBUG builds by an allocation bitmap
/// (atomic bit flips); release builds trust the owner, as DPDK's mempool does without its debug option.
/// </remarks>
internal sealed unsafe partial class FramePool : IDisposable
{
    /// <summary>
    /// Header slot size: 64 bytes of headroom (a VLAN push needs 4, an outer encapsulation up to 54 for
    /// Ethernet + IPv6 + UDP, and the packet should start on its own line) plus 192 bytes for the largest
    /// header stack we parse (Ethernet 14 + two VLAN tags 8 + IPv6 40 + up to 8 extension headers of
    /// 16 bytes 128 = 190). Four slots per page, and a power of two so the slot address is a shift.
    /// </summary>
    internal const int HeaderSlotSize = 256;

    /// <summary>Bytes in front of the packet in its header slot, for a VLAN push or an encapsulation without a copy.</summary>
    internal const int Headroom = 64;

    /// <summary>Default payload slot: a 1500-byte MTU frame plus room, two per page (the usual NIC buffer size).</summary>
    internal const int DefaultPayloadSlotSize = 2048;

    private const int HeaderSegment = 0;
    private const int PayloadSegment = 1;

    private readonly GuardedRegion _region;
    private readonly MpmcRing<uint> _free;
    private readonly byte* _headers;
    private readonly byte* _payloads;
    private readonly uint _frameCount;
    private readonly uint _payloadSlotSize;

    /// <summary>Creates <paramref name="frameCount"/> frames, all free.</summary>
    internal FramePool(uint frameCount, int payloadSlotSize = DefaultPayloadSlotSize, string name = "fastpath-frames")
    {
        if (frameCount == 0 || frameCount > RingMemory.MaxCapacity)
        {
            throw new ArgumentOutOfRangeException(nameof(frameCount), frameCount, $"a frame pool holds 1 to {RingMemory.MaxCapacity} frames");
        }

        if (payloadSlotSize < CacheLine.Size || payloadSlotSize > ushort.MaxValue + 1 || payloadSlotSize % CacheLine.Size != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(payloadSlotSize), payloadSlotSize, $"a payload slot is a multiple of {CacheLine.Size} bytes, at most 65536");
        }

        _frameCount = frameCount;
        _payloadSlotSize = (uint)payloadSlotSize;
        _region = GuardedRegion.Create(name, (nuint)frameCount * HeaderSlotSize, (nuint)frameCount * (nuint)payloadSlotSize);
        _headers = _region.Pointer + _region.Segment(HeaderSegment).Offset;
        _payloads = _region.Pointer + _region.Segment(PayloadSegment).Offset;

        // Capacity ≥ frame count, so returning every frame always fits and a free never fails.
        _free = new MpmcRing<uint>(Math.Max(2u, BitOperations.RoundUpToPowerOf2(frameCount)));
        for (uint index = 0; index < frameCount; index++)
        {
            _free.TryEnqueue(index);
        }

        InitializeDebugTracking();
    }

    internal uint FrameCount => _frameCount;

    internal int PayloadSlotSize => (int)_payloadSlotSize;

    /// <summary>Frames free at some recent instant.</summary>
    internal uint FreeCount => _free.Count;

    /// <summary>The region holding both slabs; a guest view maps it with <see cref="GuestAccess"/>.</summary>
    internal GuardedRegion Region => _region;

    /// <summary>The payload slab's memfd: what a guest's own pool sends to that guest, and nothing else ever is.</summary>
    internal SafeFileHandle PayloadFile => _region.Segment(PayloadSegment).File!;

    /// <summary>Per-segment access of the guest view: headers unmapped, payloads read-write.</summary>
    internal static ReadOnlySpan<RegionAccess> GuestAccess => [RegionAccess.None, RegionAccess.ReadWrite];

    /// <summary>Offset of frame <paramref name="index"/>'s header slot from the region start (identical in every view).</summary>
    internal nuint HeaderOffset(uint index) => _region.Segment(HeaderSegment).Offset + ((nuint)index * HeaderSlotSize);

    /// <summary>Offset of frame <paramref name="index"/>'s payload slot from the region start (identical in every view).</summary>
    internal nuint PayloadOffset(uint index) => _region.Segment(PayloadSegment).Offset + ((nuint)index * _payloadSlotSize);

    /// <summary>The header slot of frame <paramref name="index"/>; unchecked, the caller owns a valid index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal byte* Header(uint index) => _headers + ((nuint)index * HeaderSlotSize);

    /// <summary>The payload slot of frame <paramref name="index"/>; unchecked, the caller owns a valid index.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal byte* Payload(uint index) => _payloads + ((nuint)index * _payloadSlotSize);

    /// <summary>Takes one free frame; false (and index 0) when the pool is exhausted.</summary>
    internal bool TryAllocate(out uint index)
    {
        if (!_free.TryDequeue(out index))
        {
            return false;
        }

        TrackAllocated(index);
        return true;
    }

    /// <summary>Takes <c>indices.Length</c> frames or none (a receive batch that must be complete).</summary>
    internal bool TryAllocateBulk(Span<uint> indices)
    {
        if (!_free.TryDequeueBulk(indices))
        {
            return false;
        }

        TrackAllocated(indices);
        return true;
    }

    /// <summary>Takes up to <c>indices.Length</c> frames and returns how many (0 when exhausted).</summary>
    internal int AllocateBurst(Span<uint> indices)
    {
        int count = _free.DequeueBurst(indices);
        TrackAllocated(indices[..count]);
        return count;
    }

    /// <summary>Returns one frame.</summary>
    internal void Free(uint index) => FreeBulk(new ReadOnlySpan<uint>(in index));

    /// <summary>Returns frames; an index outside the pool throws (in every build), a double free throws in DEBUG builds.</summary>
    internal void FreeBulk(ReadOnlySpan<uint> indices)
    {
        foreach (uint index in indices)
        {
            if (index >= _frameCount)
            {
                ThrowNotAFrame(index);
            }
        }

        TrackFreed(indices);

        // Cannot fail: the ring holds every frame index at once, and each index is in it at most once.
        _free.TryEnqueueBulk(indices);
    }

    public void Dispose()
    {
        _free.Dispose();
        _region.Dispose();
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowNotAFrame(uint index) =>
        throw new ArgumentOutOfRangeException(nameof(index), index, $"not a frame of this pool (it has {_frameCount})");
}
