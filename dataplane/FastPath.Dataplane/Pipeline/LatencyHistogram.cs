using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Pipeline;

/// <summary>
/// One worker's batch service times (receive → last transmit of a batch, in nanoseconds) as an HDR-style
/// log-linear histogram: values below 8 ns exactly, above that 8 sub-buckets per power of two (every value is
/// within 12.5 % of its bucket's bounds) up to 2^40 ns (18 minutes; longer ones land in the last bucket).
/// </summary>
/// <remarks>
/// Recording is one leading-zero count, a shift and three plain stores, per batch, with no branch on the value
/// but the max. Concurrency: as <see cref="WorkerCounters"/> — the owning worker alone writes with plain stores,
/// readers take <see cref="Volatile"/> loads field by field (<see cref="Counters.ReadLatency(int)"/>); a reader
/// may see a bucket incremented before <see cref="Count"/>.
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public unsafe struct LatencyHistogram
{
    /// <summary>Sub-buckets per power of two: 2^3, so each bucket is at most 1/8 of its lower bound wide.</summary>
    public const int SubBucketBits = 3;

    /// <summary>Powers of two above the linear range; the top bucket ends at 2^<see cref="MaxExponent"/> ns.</summary>
    public const int MaxExponent = 40;

    /// <summary>Buckets: 8 linear ones (0–7 ns), then 8 for each power of two from 2^3 to 2^39.</summary>
    public const int BucketCount = (MaxExponent - SubBucketBits + 1) << SubBucketBits;

    /// <summary>Bytes per record: a header line and the buckets, whole cache lines so workers never share one.</summary>
    public const int Size = 64 + (BucketCount * sizeof(long));

    private const long MaxValue = (1L << MaxExponent) - 1;

    /// <summary>Batches recorded.</summary>
    [FieldOffset(0)] public long Count;

    /// <summary>Sum of the recorded times, ns.</summary>
    [FieldOffset(8)] public long Sum;

    /// <summary>Largest recorded time, ns.</summary>
    [FieldOffset(16)] public long Max;

    /// <summary>Batches per bucket; bucket bounds are <see cref="LowerBound"/> and <see cref="UpperBound"/>.</summary>
    [FieldOffset(64)] public fixed long Buckets[BucketCount];

    /// <summary>Records one batch that took <paramref name="nanoseconds"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Record(LatencyHistogram* histogram, long nanoseconds)
    {
        long value = Math.Clamp(nanoseconds, 0, MaxValue);
        histogram->Buckets[Index(value)]++;
        histogram->Count++;
        histogram->Sum += value;
        if (value > histogram->Max)
        {
            histogram->Max = value;
        }
    }

    /// <summary>The bucket of <paramref name="value"/> (0 ≤ value &lt; 2^<see cref="MaxExponent"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Index(long value)
    {
        // value | 7 puts 0–7 at exponent 2, where (e - 2) << 3 is 0 and the "mantissa" is the value itself.
        int exponent = 63 - BitOperations.LeadingZeroCount((ulong)value | ((1UL << SubBucketBits) - 1));
        int shift = Math.Max(exponent - SubBucketBits, 0);
        return ((exponent - SubBucketBits + 1) << SubBucketBits) + (int)((value >> shift) & ((1 << SubBucketBits) - 1));
    }

    /// <summary>Smallest value in bucket <paramref name="index"/>, ns.</summary>
    public static long LowerBound(int index)
    {
        if (index < 1 << SubBucketBits)
        {
            return index;
        }

        int exponent = (index >> SubBucketBits) + SubBucketBits - 1;
        long subBucket = index & ((1 << SubBucketBits) - 1);
        return ((1L << SubBucketBits) + subBucket) << (exponent - SubBucketBits);
    }

    /// <summary>One past the largest value in bucket <paramref name="index"/>, ns.</summary>
    public static long UpperBound(int index) => index == BucketCount - 1 ? 1L << MaxExponent : LowerBound(index + 1);
}
