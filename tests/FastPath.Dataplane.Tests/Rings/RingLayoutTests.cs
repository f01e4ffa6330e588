using System.Runtime.CompilerServices;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Rings;

namespace FastPath.Dataplane.Tests.Rings;

public sealed unsafe class RingLayoutTests
{
    [Fact]
    public void Producer_and_consumer_cursors_sit_in_different_128_byte_line_pairs()
    {
        Assert.Equal(64, CacheLine.Size);
        Assert.Equal(256, sizeof(RingCursors));
        RingCursors cursors = default;
        nint producer = (nint)Unsafe.ByteOffset(ref Unsafe.As<RingCursors, byte>(ref cursors), ref Unsafe.As<uint, byte>(ref cursors.ProducerTail));
        nint consumer = (nint)Unsafe.ByteOffset(ref Unsafe.As<RingCursors, byte>(ref cursors), ref Unsafe.As<uint, byte>(ref cursors.ConsumerTail));
        Assert.NotEqual(producer / CacheLine.PrefetchPair, consumer / CacheLine.PrefetchPair);
        Assert.Equal(0, RingCursors.Size % CacheLine.PrefetchPair);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(3u)]
    [InlineData(100u)]
    [InlineData((1u << 30) + 1)]
    [InlineData(1u << 31)]
    public void A_capacity_that_is_not_a_power_of_two_in_range_is_refused(uint capacity)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SpscRing<ulong>(capacity));
        Assert.Contains("power of two", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new MpmcRing<ulong>(capacity));
    }

    [Fact]
    public void Ring_memory_must_be_cache_line_aligned()
    {
        using var region = GuardedRegion.Create("fastpath-ring-test", RingMemory.RequiredBytes<ulong>(8) + 64);
        Assert.Contains("64-byte aligned", Assert.Throws<ArgumentException>(() => SpscRing<ulong>.Format(region.Pointer + 8, 8)).Message);
        Assert.Equal(256u + (8u * 8), RingMemory.RequiredBytes<ulong>(8));
    }
}
