using System.Globalization;

namespace FastPath.Bench.Vtpm;

/// <summary>Median and nearest-rank percentiles of a set of samples (sorted in place), for the harnesses' tables.</summary>
/// <remarks>Stateless; the caller owns the list.</remarks>
internal static class Percentiles
{
    /// <summary>The sample at rank ceil(q·n) of the samples (q = 0.99 is p99); NaN for no samples.</summary>
    public static double Rank(List<double> samples, double q)
    {
        if (samples.Count == 0)
        {
            return double.NaN;
        }

        samples.Sort();
        int rank = (int)Math.Ceiling(q * samples.Count);
        return samples[Math.Clamp(rank - 1, 0, samples.Count - 1)];
    }

    /// <summary>The middle sample, or the mean of the two middle ones for an even count; NaN for no samples.</summary>
    public static double Median(List<double> samples)
    {
        if (samples.Count == 0)
        {
            return double.NaN;
        }

        samples.Sort();
        int middle = samples.Count / 2;
        return samples.Count % 2 == 1 ? samples[middle] : (samples[middle - 1] + samples[middle]) / 2;
    }

    /// <summary>"min / median / max" (one decimal), or "—" for no samples.</summary>
    public static string MinMedianMax(List<double> samples)
    {
        if (samples.Count == 0)
        {
            return "—";
        }

        double median = Median(samples);
        return string.Create(CultureInfo.InvariantCulture, $"{samples[0]:F1} / {median:F1} / {samples[^1]:F1}");
    }
}
