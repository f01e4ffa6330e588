using FastPath.Dataplane.Rings;

namespace FastPath.Dataplane.Tests.Rings;

public sealed class MpmcRingTests
{
    [Theory]
    [InlineData(0u)]
    [InlineData(uint.MaxValue - 5)]
    public void Bulk_operations_are_all_or_nothing_and_bursts_take_what_fits(uint start)
    {
        using var ring = new MpmcRing<ulong>(8, start);
        Assert.True(ring.TryEnqueueBulk([1, 2, 3, 4, 5, 6]));
        Assert.False(ring.TryEnqueueBulk([7, 8, 9]));
        Assert.Equal(2, ring.EnqueueBurst([7, 8, 9]));
        Assert.False(ring.TryEnqueue(10));

        ulong[] items = new ulong[9];
        Assert.False(ring.TryDequeueBulk(items));
        Assert.True(ring.TryDequeueBulk(items.AsSpan(0, 3)));
        Assert.Equal(5, ring.DequeueBurst(items.AsSpan(3)));
        Assert.Equal([1ul, 2, 3, 4, 5, 6, 7, 8], items[..8]);
        Assert.False(ring.TryDequeue(out _));
        Assert.True(ring.TryEnqueue(11));
        Assert.True(ring.TryDequeue(out ulong eleven));
        Assert.Equal(11ul, eleven);
    }

    [Theory]
    [InlineData(0u, 64u)]
    [InlineData(uint.MaxValue - 1000, 64u)]
    [InlineData(uint.MaxValue - 3, 512u)]
    public void Producers_and_consumers_pass_every_item_exactly_once_in_order_per_producer(uint start, uint capacity)
    {
        const int producers = 3;
        const int consumers = 2;
        using var ring = new MpmcRing<ulong>(capacity, start);
        CancellationToken stop = RingStress.Deadline();
        long[] produced = new long[producers];
        int producersRunning = producers;

        // Item = producer << 32 | sequence; a consumer sees each producer's sequences rising (the ring is FIFO
        // and a consumer's dequeues are ordered), and all consumers together see each sequence exactly once.
        Action[] producing = Enumerable.Range(0, producers).Select(p => (Action)(() =>
        {
            var random = new Random(p);
            Span<ulong> batch = stackalloc ulong[RingStress.MaxBatch];
            ulong next = 0;
            while (RingStress.KeepProducing(next, RingStress.ItemsPerProducer / producers, stop))
            {
                int size = random.Next(1, RingStress.MaxBatch + 1);
                for (int i = 0; i < size; i++)
                {
                    batch[i] = ((ulong)p << 32) | (next + (ulong)i);
                }

                next += RingStress.Operation(random.Next(3)) switch
                {
                    RingStress.Op.Single => ring.TryEnqueue(batch[0]) ? 1u : 0u,
                    RingStress.Op.Bulk => ring.TryEnqueueBulk(batch[..size]) ? (ulong)size : 0,
                    _ => (ulong)ring.EnqueueBurst(batch[..size]),
                };
            }

            produced[p] = (long)next;
            Interlocked.Decrement(ref producersRunning);
        })).ToArray();

        var seen = new List<ulong>[consumers];
        Action[] consuming = Enumerable.Range(0, consumers).Select(c => (Action)(() =>
        {
            var random = new Random(100 + c);
            var mine = new List<ulong>(1 << 20);
            Span<ulong> batch = stackalloc ulong[RingStress.MaxBatch];
            long[] last = [-1, -1, -1];
            while (true)
            {
                bool done = Volatile.Read(ref producersRunning) == 0;
                int size = random.Next(1, RingStress.MaxBatch + 1);
                int got = RingStress.Operation(random.Next(3)) switch
                {
                    RingStress.Op.Single => ring.TryDequeue(out batch[0]) ? 1 : 0,
                    RingStress.Op.Bulk => ring.TryDequeueBulk(batch[..size]) ? size : 0,
                    _ => ring.DequeueBurst(batch[..size]),
                };
                for (int i = 0; i < got; i++)
                {
                    int producer = (int)(batch[i] >> 32);
                    long sequence = (long)(uint)batch[i];
                    if (sequence <= last[producer])
                    {
                        throw new InvalidOperationException($"consumer {c}: producer {producer} item {sequence} after {last[producer]}");
                    }

                    last[producer] = sequence;
                    mine.Add(batch[i]);
                }

                if (done && got == 0 && ring.Count == 0)
                {
                    break;
                }
            }

            seen[c] = mine;
        })).ToArray();

        RingStress.RunConcurrently([.. producing, .. consuming]);

        for (int p = 0; p < producers; p++)
        {
            Assert.True(produced[p] >= (long)RingStress.MinimumItemsPerProducer, $"producer {p} produced only {produced[p]} items");
        }

        ulong[] all = [.. seen[0], .. seen[1]];
        Array.Sort(all);
        int k = 0;
        for (int p = 0; p < producers; p++)
        {
            for (long s = 0; s < produced[p]; s++, k++)
            {
                ulong expected = ((ulong)p << 32) | (ulong)s;
                if (all[k] != expected)
                {
                    Assert.Fail($"item {k}: expected producer {p} sequence {s}, found {all[k] >> 32}:{(uint)all[k]} (lost or duplicated)");
                }
            }
        }

        Assert.Equal(k, all.Length);
    }
}
