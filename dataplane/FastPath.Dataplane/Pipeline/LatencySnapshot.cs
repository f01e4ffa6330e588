namespace FastPath.Dataplane.Pipeline;

/// <summary>A copy of one worker's <see cref="LatencyHistogram"/>: batch service times in nanoseconds.</summary>
/// <remarks>Immutable once made by <see cref="Counters.ReadLatency(int)"/>.</remarks>
public sealed class LatencySnapshot
{
    private readonly long[] _buckets;

    internal LatencySnapshot(long[] buckets, long count, long sum, long max)
    {
        _buckets = buckets;
        Count = count;
        Sum = sum;
        Max = max;
    }

    /// <summary>Batches recorded.</summary>
    public long Count { get; }

    /// <summary>Sum of all recorded times, ns.</summary>
    public long Sum { get; }

    /// <summary>Largest recorded time, ns (exact, not bucketed).</summary>
    public long Max { get; }

    /// <summary>
    /// The value below which a fraction <paramref name="quantile"/> (0–1) of batches fall: the upper end of the bucket
    /// holding that rank (at most 12.5 % above the true value) and never above <see cref="Max"/>; 0 with no batches.
    /// </summary>
    public long Percentile(double quantile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(quantile, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quantile, 1);
        long total = 0;
        foreach (long n in _buckets)
        {
            total += n;
        }

        if (total == 0)
        {
            return 0;
        }

        long rank = Math.Max(1, (long)Math.Ceiling(quantile * total));
        long seen = 0;
        for (int i = 0; i < _buckets.Length; i++)
        {
            seen += _buckets[i];
            if (seen >= rank)
            {
                return Math.Min(LatencyHistogram.UpperBound(i) - 1, Max);
            }
        }

        return Max;
    }

    /// <summary>Batches that took less than <paramref name="nanoseconds"/>, which must be a bucket bound (a power of two is).</summary>
    public long CountBelow(long nanoseconds)
    {
        long below = 0;
        for (int i = 0; i < _buckets.Length && LatencyHistogram.UpperBound(i) <= nanoseconds; i++)
        {
            below += _buckets[i];
        }

        return below;
    }
}
