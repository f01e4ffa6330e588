using System.Globalization;
using System.Text;
using FastPath.Control.Stats;
using FastPath.Dataplane;

namespace FastPath.Control.Metrics;

/// <summary>
/// Renders a <see cref="StatsSnapshot"/> in the Prometheus text exposition format (version 0.0.4), one family per row
/// of <see cref="MetricCatalog"/>: counters are totals (Prometheus derives rates), labels say port, side, worker,
/// reason and generation.
/// </summary>
/// <remarks>Thread-safe: stateless.</remarks>
public static class PrometheusText
{
    /// <summary>The Content-Type of the output.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>The exposition of <paramref name="stats"/>.</summary>
    public static string Render(StatsSnapshot stats)
    {
        var text = new StringBuilder(4096);
        foreach (Metric<PortStats> metric in MetricCatalog.Port)
        {
            Family(text, metric);
            foreach (PortStats port in stats.Ports)
            {
                Sample(text, metric.Name, $"port=\"{Escape(port.Name)}\",side=\"{port.Side}\"", metric.Read(port));
            }
        }

        foreach (Metric<WorkerStats> metric in MetricCatalog.Worker)
        {
            Family(text, metric);
            foreach (WorkerStats worker in stats.Workers)
            {
                Sample(text, metric.Name, WorkerLabel(worker), metric.Read(worker));
            }
        }

        Family(text, MetricCatalog.Drops);
        foreach (WorkerStats worker in stats.Workers)
        {
            for (int reason = 1; reason < DropReasons.Count; reason++)
            {
                Sample(text, MetricCatalog.Drops.Name, $"worker=\"{worker.Id}\",reason=\"{DropReasons.Name((DropReason)reason)}\"",
                    MetricCatalog.Drops.Read((worker, (DropReason)reason)));
            }
        }

        PrometheusLatency.Append(text, stats.Workers);
        Unlabelled(text, MetricCatalog.Table, stats);
        if (stats.Fleet is { } fleet)
        {
            Unlabelled(text, MetricCatalog.Fleet, fleet);
        }

        Unlabelled(text, MetricCatalog.Daemon, stats);
        Unlabelled(text, MetricCatalog.Runtime, stats.Runtime);
        Family(text, MetricCatalog.GcCollections);
        for (int generation = 0; generation < stats.Runtime.Collections.Length; generation++)
        {
            Sample(text, MetricCatalog.GcCollections.Name, $"generation=\"{generation}\"", MetricCatalog.GcCollections.Read((stats.Runtime, generation)));
        }

        return text.ToString();
    }

    private static void Unlabelled<T>(StringBuilder text, Metric<T>[] metrics, T source)
    {
        foreach (Metric<T> metric in metrics)
        {
            Family(text, metric);
            Sample(text, metric.Name, null, metric.Read(source));
        }
    }

    private static string WorkerLabel(WorkerStats worker) => $"worker=\"{worker.Id}\"";

    // Port names come from the operator's config; the exposition format escapes backslash, quote and newline.
    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
        .Replace("\n", "\\n", StringComparison.Ordinal);

    private static void Family<T>(StringBuilder text, Metric<T> metric) =>
        text.Append("# HELP ").Append(metric.Name).Append(' ').Append(metric.Help).Append('\n')
            .Append("# TYPE ").Append(metric.Name).Append(' ').Append(metric.Kind == MetricKind.Counter ? "counter" : "gauge").Append('\n');

    private static void Sample(StringBuilder text, string name, string? labels, double value)
    {
        text.Append(name);
        if (labels is not null)
        {
            text.Append('{').Append(labels).Append('}');
        }

        text.Append(' ').Append(Format(value)).Append('\n');
    }

    /// <summary>Whole numbers as integers (counters stay exact to 2^53), fractions round-trip.</summary>
    internal static string Format(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 9.007199254740992e15
            ? ((long)value).ToString(CultureInfo.InvariantCulture)
            : value.ToString("R", CultureInfo.InvariantCulture);
}
