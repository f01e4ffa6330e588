using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Dataplane.Tests.Pipeline;

/// <summary>The workers' batch service-time histogram: log-linear buckets that tile the range, and percentiles from them.</summary>
public sealed unsafe class LatencyHistogramTests
{
    [Fact]
    public void Buckets_tile_the_range_without_gaps_and_are_at_most_an_eighth_of_their_lower_bound_wide()
    {
        Assert.Equal(0, LatencyHistogram.LowerBound(0));
        for (int i = 0; i < LatencyHistogram.BucketCount; i++)
        {
            long low = LatencyHistogram.LowerBound(i);
            long high = LatencyHistogram.UpperBound(i);
            Assert.True(high > low, $"bucket {i} is empty");
            Assert.True(high - low <= Math.Max(1, low / 8), $"bucket {i} [{low}, {high}) is wider than 12.5 %");
            Assert.Equal(i, LatencyHistogram.Index(low));
            Assert.Equal(i, LatencyHistogram.Index(high - 1));
            if (i + 1 < LatencyHistogram.BucketCount)
            {
                Assert.Equal(high, LatencyHistogram.LowerBound(i + 1));
            }
        }

        Assert.Equal(1L << LatencyHistogram.MaxExponent, LatencyHistogram.UpperBound(LatencyHistogram.BucketCount - 1));
        Assert.Equal(0, LatencyHistogram.Size % 64);
    }

    [Fact]
    public void Percentiles_come_within_a_bucket_of_the_true_value_and_max_is_exact()
    {
        using var counters = new Counters(2);
        LatencyHistogram* histogram = counters.LatencyFor(1);
        for (long ns = 1; ns <= 100_000; ns++)
        {
            LatencyHistogram.Record(histogram, ns);
        }

        LatencyHistogram.Record(histogram, 3_000_000_123);
        LatencySnapshot latency = counters.ReadLatency(1);

        Assert.Equal(100_001, latency.Count);
        Assert.Equal(3_000_000_123, latency.Max);
        Assert.Equal((100_000L * 100_001 / 2) + 3_000_000_123, latency.Sum);
        AssertNear(50_001, latency.Percentile(0.5));
        AssertNear(99_001, latency.Percentile(0.99));
        AssertNear(99_901, latency.Percentile(0.999));
        Assert.Equal(3_000_000_123, latency.Percentile(1));
        Assert.Equal(1024 - 1, latency.CountBelow(1024));
        Assert.Equal(0, counters.ReadLatency(0).Count);
        Assert.Equal(0, counters.ReadLatency(0).Percentile(0.99));
    }

    [Fact]
    public void Out_of_range_times_are_clamped_into_the_end_buckets()
    {
        using var counters = new Counters(1);
        LatencyHistogram.Record(counters.LatencyFor(0), -5);
        LatencyHistogram.Record(counters.LatencyFor(0), long.MaxValue);
        LatencySnapshot latency = counters.ReadLatency(0);

        Assert.Equal(1, latency.CountBelow(1));
        Assert.Equal(2, latency.CountBelow(1L << LatencyHistogram.MaxExponent));
        Assert.Equal((1L << LatencyHistogram.MaxExponent) - 1, latency.Max);
    }

    [Fact]
    public void A_worker_records_every_batch_it_processes()
    {
        const long packets = 200_000;
        using MappingTable table = InMemoryBenchmark.BuildTable(1024);
        using var counters = new Counters(1);
        using var pool = new FramePool(256);
        using var generator = new GeneratorPort("gen", new GeneratorSpec(64, 1024, 1024), 0, 1, packets);
        var sink = new SinkPort("sink");
        var stage = new TranslationStage(table, TranslationDirection.UserToSecure, EgressMacs.Create([2, 0, 0, 0, 9, 1], [2, 0, 0, 0, 9, 2]));
        using (var worker = new Worker(0, -1, [new PortBinding(generator, stage, sink)], pool, counters, packetLimit: packets))
        {
            worker.Start();
            worker.Join();
        }

        WorkerCounters totals = counters.Read(0);
        LatencySnapshot latency = counters.ReadLatency(0);
        Assert.True(totals.Batches >= packets / Worker.DefaultBatchSize);
        Assert.Equal(totals.Batches, latency.Count);
        Assert.True(latency.Max > 0);
        Assert.True(latency.Percentile(0.5) <= latency.Percentile(0.99) && latency.Percentile(0.99) <= latency.Max);
        Assert.True(latency.Sum <= latency.Max * latency.Count);
    }

    private static void AssertNear(long expected, long actual) =>
        Assert.True(actual >= expected && actual <= expected + (expected / 8), $"expected {expected} (+12.5 %), got {actual}");
}
