using System.Runtime.CompilerServices;
using FastPath.Dataplane.Memory;

namespace FastPath.Dataplane.Tests.Memory;

public sealed unsafe class FramePoolTests
{
    [Fact]
    public void Every_frame_can_be_allocated_once_and_then_allocation_reports_none()
    {
        using var pool = new FramePool(100);
        var seen = new HashSet<uint>();
        while (pool.TryAllocate(out uint index))
        {
            Assert.True(index < 100);
            Assert.True(seen.Add(index));
        }

        Assert.Equal(100, seen.Count);
        Assert.Equal(0u, pool.FreeCount);
        Assert.False(pool.TryAllocate(out uint none));
        Assert.Equal(0u, none);
        Assert.Equal(0, pool.AllocateBurst(new uint[8]));
        Assert.False(pool.TryAllocateBulk(new uint[1]));
    }

    [Fact]
    public void Bulk_allocation_is_all_or_nothing_and_burst_takes_what_is_left()
    {
        using var pool = new FramePool(8);
        Assert.False(pool.TryAllocateBulk(new uint[9]));
        Assert.Equal(8u, pool.FreeCount);

        var five = new uint[5];
        Assert.True(pool.TryAllocateBulk(five));
        var rest = new uint[8];
        Assert.Equal(3, pool.AllocateBurst(rest));
        Assert.Equal(8, five.Concat(rest[..3]).Distinct().Count());

        pool.FreeBulk(five);
        pool.FreeBulk(rest.AsSpan(0, 3));
        Assert.Equal(8u, pool.FreeCount);
        Assert.True(pool.TryAllocateBulk(new uint[8]));
    }

    [Fact]
    public void A_double_free_is_detected_in_debug_builds()
    {
#if DEBUG
        using var pool = new FramePool(4);
        Assert.True(pool.TryAllocate(out uint index));
        pool.Free(index);
        var error = Assert.Throws<InvalidOperationException>(() => pool.Free(index));
        Assert.Equal($"frame {index} freed twice (it is not allocated)", error.Message);
        Assert.Equal(4u, pool.FreeCount);
#else
        Assert.Skip("double-free tracking is compiled into DEBUG builds only");
#endif
    }

    [Fact]
    public void A_bulk_free_naming_a_frame_twice_is_refused_whole_in_debug_builds()
    {
#if DEBUG
        using var pool = new FramePool(4);
        var frames = new uint[2];
        Assert.True(pool.TryAllocateBulk(frames));
        Assert.Throws<InvalidOperationException>(() => pool.FreeBulk([frames[0], frames[0]]));

        // Nothing of the refused call was freed, so both frames can still be returned once.
        Assert.Equal(2u, pool.FreeCount);
        pool.FreeBulk(frames);
        Assert.Equal(4u, pool.FreeCount);
#else
        Assert.Skip("double-free tracking is compiled into DEBUG builds only");
#endif
    }

    [Fact]
    public void Freeing_an_index_outside_the_pool_is_refused()
    {
        using var pool = new FramePool(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Free(4));
        Assert.Equal(4u, pool.FreeCount);
    }

    [Fact]
    public void Header_and_payload_slots_are_disjoint_and_in_separate_page_aligned_slabs()
    {
        using var pool = new FramePool(33, payloadSlotSize: 1536);
        RegionSegment headers = pool.Region.Segment(0);
        RegionSegment payloads = pool.Region.Segment(1);
        Assert.Equal(0u, payloads.Offset % GuardedRegion.PageSize);
        Assert.True(headers.Offset + headers.Length <= payloads.Offset);

        for (uint i = 0; i < 33; i++)
        {
            Assert.True(pool.HeaderOffset(i) + FramePool.HeaderSlotSize <= headers.Offset + headers.Length);
            Assert.True(pool.PayloadOffset(i) >= payloads.Offset);
            Assert.True(pool.PayloadOffset(i) + 1536 <= payloads.Offset + payloads.Length);
            Assert.Equal((nuint)pool.Header(i), (nuint)(pool.Region.Pointer + pool.HeaderOffset(i)));
            Assert.Equal((nuint)pool.Payload(i), (nuint)(pool.Region.Pointer + pool.PayloadOffset(i)));
            Assert.Equal(0u, pool.PayloadOffset(i) % (nuint)CacheLine.Size);
        }
    }

    [Fact]
    public void Payload_written_by_the_data_plane_is_seen_by_the_guest_at_the_same_offset()
    {
        using var pool = new FramePool(16);
        using GuardedRegion guest = pool.Region.MapView(FramePool.GuestAccess);
        Assert.True(pool.TryAllocate(out uint frame));
        pool.Payload(frame)[100] = 0x5A;
        Assert.Equal(0x5A, guest.Pointer[pool.PayloadOffset(frame) + 100]);
        guest.Pointer[pool.PayloadOffset(frame) + 101] = 0x3C;
        Assert.Equal(0x3C, pool.Payload(frame)[101]);
    }

    [Fact]
    public void The_header_slot_holds_the_headroom_and_the_largest_header_stack()
    {
        // Ethernet 14 + two 802.1Q tags 8 + IPv6 40 + 8 extension headers of 16 bytes: what the parser accepts at most.
        const int largestHeaderStack = 14 + 8 + 40 + (8 * 16);
        Assert.True(FramePool.Headroom + largestHeaderStack <= FramePool.HeaderSlotSize);
        Assert.Equal(0, FramePool.Headroom % CacheLine.Size);
    }

    [Fact]
    public void Bad_pool_shapes_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FramePool(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FramePool(4, payloadSlotSize: 100));
    }

    [Fact]
    public void Two_threads_allocating_and_freeing_in_bursts_never_share_a_frame()
    {
        using var pool = new FramePool(64);
        int[] owner = new int[64];
        DateTime deadline = DateTime.UtcNow.AddSeconds(1);
        void Run(int id)
        {
            Span<uint> frames = stackalloc uint[8];
            while (DateTime.UtcNow < deadline)
            {
                int count = pool.AllocateBurst(frames);
                for (int i = 0; i < count; i++)
                {
                    Assert.Equal(0, Interlocked.CompareExchange(ref owner[frames[i]], id, 0));
                }

                for (int i = 0; i < count; i++)
                {
                    Assert.Equal(id, Interlocked.Exchange(ref owner[frames[i]], 0));
                }

                pool.FreeBulk(frames[..count]);
            }
        }

        Rings.RingStress.RunConcurrently(() => Run(1), () => Run(2));
        Assert.Equal(64u, pool.FreeCount);
    }
}
