using System.Globalization;
using System.Text;
using FastPath.Control.Stats;
using FastPath.Dataplane.Pipeline;

namespace FastPath.Control.Metrics;

/// <summary>
/// <c>fastpath_worker_batch_seconds</c>: each worker's batch service time as a Prometheus histogram. The worker keeps
/// 304 log-linear buckets; exposed are the powers of two from 128 ns to 1.07 s, which are exact sums of them.
/// </summary>
/// <remarks>Stateless.</remarks>
internal static class PrometheusLatency
{
    private const string Name = MetricCatalog.BatchSecondsName;
    private const int FirstExponent = 7;
    private const int LastExponent = 30;

    public static void Append(StringBuilder text, IReadOnlyList<WorkerStats> workers)
    {
        text.Append("# HELP ").Append(Name).Append(' ').Append(MetricCatalog.BatchSecondsHelp).Append('\n');
        text.Append("# TYPE ").Append(Name).Append(" histogram\n");
        foreach (WorkerStats worker in workers)
        {
            if (worker.BatchLatency is not LatencySnapshot latency)
            {
                continue;
            }

            string id = worker.Id.ToString(CultureInfo.InvariantCulture);
            for (int exponent = FirstExponent; exponent <= LastExponent; exponent++)
            {
                // Buckets hold integer nanoseconds, so "below 2^k ns" is exactly "at most 2^k - 1 ns".
                long bound = 1L << exponent;
                text.Append(CultureInfo.InvariantCulture, $"{Name}_bucket{{worker=\"{id}\",le=\"{(bound - 1) / 1e9:R}\"}} {latency.CountBelow(bound)}\n");
            }

            // The +Inf bucket and _count agree by construction: both are the sum of the buckets read.
            long count = latency.CountBelow(1L << LatencyHistogram.MaxExponent);
            text.Append(CultureInfo.InvariantCulture, $"{Name}_bucket{{worker=\"{id}\",le=\"+Inf\"}} {count}\n");
            text.Append(CultureInfo.InvariantCulture, $"{Name}_sum{{worker=\"{id}\"}} {latency.Sum / 1e9:R}\n");
            text.Append(CultureInfo.InvariantCulture, $"{Name}_count{{worker=\"{id}\"}} {count}\n");
        }
    }
}
