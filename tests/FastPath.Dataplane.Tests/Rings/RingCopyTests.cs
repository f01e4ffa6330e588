using FastPath.Dataplane.Rings;
using FastPath.Dataplane.Tests.Infrastructure;

namespace FastPath.Dataplane.Tests.Rings;

public sealed unsafe class RingCopyTests
{
    [Fact]
    public void The_vector_copy_matches_its_scalar_twin_and_stays_inside_both_buffers()
    {
        // Source and destination both end flush against a PROT_NONE page: a read or write past either faults.
        using var sources = new GuardedFrames(4096);
        using var destinations = new GuardedFrames(4096);
        var random = new Random(7);
        for (int length = 0; length <= 300; length++)
        {
            byte[] data = new byte[length];
            random.NextBytes(data);
            byte* source = sources.Place(data);
            byte* vector = destinations.Place(new byte[length]);
            RingMemory.Copy(ref *vector, ref *source, (nuint)length);
            byte[] viaVector = new Span<byte>(vector, length).ToArray();

            byte* scalar = destinations.Place(new byte[length]);
            RingMemory.CopyScalar(ref *scalar, ref *source, (nuint)length);
            Assert.Equal(data, new Span<byte>(scalar, length).ToArray());
            Assert.Equal(data, viaVector);
        }
    }

    [Fact]
    public void Bulk_copies_split_at_the_end_of_the_slot_array_land_in_order()
    {
        using var ring = new SpscRing<ulong>(16, 10);
        ulong[] items = [.. Enumerable.Range(1, 13).Select(i => (ulong)i)];
        ulong[] back = new ulong[13];
        for (int round = 0; round < 5; round++)
        {
            Assert.True(ring.TryEnqueueBulk(items));
            Assert.True(ring.TryDequeueBulk(back));
            Assert.Equal(items, back);
        }
    }
}
