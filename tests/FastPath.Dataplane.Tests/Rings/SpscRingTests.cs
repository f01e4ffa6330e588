using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Rings;

namespace FastPath.Dataplane.Tests.Rings;

public sealed unsafe class SpscRingTests
{
    [Theory]
    [InlineData(0u)]
    [InlineData(uint.MaxValue - 5)]
    public void Bulk_operations_are_all_or_nothing_and_bursts_take_what_fits(uint start)
    {
        using var ring = new SpscRing<ulong>(8, start);
        Assert.True(ring.TryEnqueueBulk([1, 2, 3, 4, 5, 6]));
        Assert.False(ring.TryEnqueueBulk([7, 8, 9]));
        Assert.Equal(6u, ring.Count);
        Assert.Equal(2, ring.EnqueueBurst([7, 8, 9]));
        Assert.False(ring.TryEnqueue(10));

        ulong[] out3 = new ulong[3];
        ulong[] out9 = new ulong[9];
        Assert.True(ring.TryDequeueBulk(out3));
        Assert.Equal([1ul, 2, 3], out3);
        Assert.False(ring.TryDequeueBulk(out9[..6]));
        Assert.Equal(5, ring.DequeueBurst(out9));
        Assert.Equal([4ul, 5, 6, 7, 8], out9[..5]);
        Assert.False(ring.TryDequeue(out _));
        Assert.Equal(0, ring.DequeueBurst(out9));
        Assert.True(ring.TryEnqueueBulk([]));
        Assert.True(ring.TryDequeueBulk([]));
    }

    [Fact]
    public void Single_items_keep_fifo_order_across_the_slot_array_end_and_the_cursor_wrap()
    {
        using var ring = new SpscRing<ulong>(4, uint.MaxValue - 2);
        ulong next = 0;
        ulong expected = 0;
        for (int round = 0; round < 10; round++)
        {
            while (ring.TryEnqueue(next))
            {
                next++;
            }

            Assert.True(ring.TryDequeue(out ulong a));
            Assert.True(ring.TryDequeue(out ulong b));
            Assert.Equal(expected++, a);
            Assert.Equal(expected++, b);
        }
    }

    [Fact]
    public void A_ring_formatted_in_shared_memory_is_drained_through_another_view()
    {
        // The guest channel's shape: one side formats the ring in a memfd, the other attaches to its own mapping.
        const uint capacity = 64;
        using var region = GuardedRegion.Create("fastpath-ring-test", RingMemory.RequiredBytes<UInt128>(capacity));
        using GuardedRegion peer = region.MapView(RegionAccess.ReadWrite);
        var producer = SpscRing<UInt128>.Format(region.Pointer, capacity, uint.MaxValue - 10);
        var consumer = SpscRing<UInt128>.Attach(peer.Pointer, capacity);

        var sent = new UInt128[40];
        for (int i = 0; i < sent.Length; i++)
        {
            sent[i] = new UInt128((ulong)i, (ulong)(60 + i)); // a 16-byte descriptor
        }

        Assert.True(producer.TryEnqueueBulk(sent));
        var received = new UInt128[40];
        Assert.True(consumer.TryDequeueBulk(received));
        Assert.Equal(sent, received);
        Assert.True(producer.TryEnqueueBulk(sent));
        Assert.Equal(40u, consumer.Count);
    }

    [Theory]
    [InlineData(0u, 64u)]
    [InlineData(uint.MaxValue - 1000, 64u)]
    [InlineData(uint.MaxValue - 3, 1024u)]
    public void A_producer_and_a_consumer_thread_pass_every_item_once_in_order(uint start, uint capacity)
    {
        using var ring = new SpscRing<ulong>(capacity, start);
        var stop = RingStress.Deadline();
        long produced = 0;
        long consumed = 0;
        bool producerDone = false;

        void Produce()
        {
            var random = new Random(1);
            Span<ulong> batch = stackalloc ulong[RingStress.MaxBatch];
            ulong next = 0;
            while (RingStress.KeepProducing(next, RingStress.ItemsPerProducer, stop))
            {
                int size = random.Next(1, RingStress.MaxBatch + 1);
                for (int i = 0; i < size; i++)
                {
                    batch[i] = next + (ulong)i;
                }

                next += RingStress.Operation(random.Next(3)) switch
                {
                    RingStress.Op.Single => ring.TryEnqueue(batch[0]) ? 1u : 0u,
                    RingStress.Op.Bulk => ring.TryEnqueueBulk(batch[..size]) ? (ulong)size : 0,
                    _ => (ulong)ring.EnqueueBurst(batch[..size]),
                };
            }

            produced = (long)next;
            Volatile.Write(ref producerDone, true);
        }

        void Consume()
        {
            var random = new Random(2);
            Span<ulong> batch = stackalloc ulong[RingStress.MaxBatch];
            ulong expected = 0;
            while (true)
            {
                bool done = Volatile.Read(ref producerDone);
                int size = random.Next(1, RingStress.MaxBatch + 1);
                int got = RingStress.Operation(random.Next(3)) switch
                {
                    RingStress.Op.Single => ring.TryDequeue(out batch[0]) ? 1 : 0,
                    RingStress.Op.Bulk => ring.TryDequeueBulk(batch[..size]) ? size : 0,
                    _ => ring.DequeueBurst(batch[..size]),
                };
                for (int i = 0; i < got; i++)
                {
                    if (batch[i] != expected)
                    {
                        throw new InvalidOperationException($"expected item {expected}, got {batch[i]}");
                    }

                    expected++;
                }

                if (done && got == 0 && ring.Count == 0)
                {
                    break;
                }
            }

            consumed = (long)expected;
        }

        RingStress.RunConcurrently(Produce, Consume);
        Assert.True(produced >= (long)RingStress.MinimumItemsPerProducer, $"only {produced} items were produced");
        Assert.Equal(produced, consumed);
    }
}
