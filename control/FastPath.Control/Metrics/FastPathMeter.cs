using System.Diagnostics;
using System.Diagnostics.Metrics;
using FastPath.Control.Stats;
using FastPath.Dataplane;

namespace FastPath.Control.Metrics;

/// <summary>
/// The <c>FastPath</c> <see cref="Meter"/>: one observable instrument per <see cref="MetricCatalog"/> row, so
/// <c>dotnet-counters monitor --counters FastPath</c>, OpenTelemetry's .NET SDK or any <see cref="MeterListener"/>
/// read the same figures as <c>/metrics</c> and <c>stats</c>. Instruments are observed, never recorded: the workers
/// keep their plain counters and pay nothing, and the callbacks run only while a listener collects.
/// </summary>
/// <remarks>Thread-safe: listeners may collect from any thread; one snapshot serves every instrument of a collection.</remarks>
public sealed class FastPathMeter : IDisposable
{
    /// <summary>The meter's name, what <c>dotnet-counters --counters</c> and OpenTelemetry's <c>AddMeter</c> take.</summary>
    public const string Name = "FastPath";

    // A collection calls every instrument's callback in turn; one snapshot within this age serves them all.
    private static readonly TimeSpan SnapshotReuse = TimeSpan.FromMilliseconds(250);

    private readonly Meter _meter = new(Name);
    private readonly Func<StatsSnapshot?> _read;
    private readonly Lock _lock = new();
    private StatsSnapshot? _snapshot;
    private long _takenAt;

    /// <summary>Creates the instruments; <paramref name="read"/> gives fresh figures, or null while the daemon stops.</summary>
    public FastPathMeter(Func<StatsSnapshot?> read)
    {
        _read = read;
        foreach (Metric<PortStats> metric in MetricCatalog.Port)
        {
            Observe(metric, s => s.Ports.Select(p => new Measurement<double>(metric.Read(p), new("port", p.Name), new("side", p.Side))));
        }

        foreach (Metric<WorkerStats> metric in MetricCatalog.Worker)
        {
            Observe(metric, s => s.Workers.Select(w => new Measurement<double>(metric.Read(w), new KeyValuePair<string, object?>("worker", w.Id))));
        }

        Observe(MetricCatalog.Drops, s => s.Workers.SelectMany(w => Enumerable.Range(1, DropReasons.Count - 1).Select(r =>
            new Measurement<double>(MetricCatalog.Drops.Read((w, (DropReason)r)), new("worker", w.Id), new("reason", DropReasons.Name((DropReason)r))))));
        foreach (Metric<StatsSnapshot> metric in MetricCatalog.Table.Concat(MetricCatalog.Daemon))
        {
            Observe(metric, s => [new Measurement<double>(metric.Read(s))]);
        }

        foreach (Metric<Maps.Etcd.EtcdFollowerStatus> metric in MetricCatalog.Fleet)
        {
            Observe(metric, s => s.Fleet is { } fleet ? [new Measurement<double>(metric.Read(fleet))] : []);
        }

        foreach (Metric<RuntimeStats> metric in MetricCatalog.Runtime)
        {
            Observe(metric, s => [new Measurement<double>(metric.Read(s.Runtime))]);
        }

        Observe(MetricCatalog.GcCollections, s => Enumerable.Range(0, s.Runtime.Collections.Length).Select(g =>
            new Measurement<double>(MetricCatalog.GcCollections.Read((s.Runtime, g)), new KeyValuePair<string, object?>("generation", g))));

        // .NET has no observable histogram: the meter shows the histogram's quantiles, Prometheus its buckets.
        _meter.CreateObservableGauge(MetricCatalog.BatchSecondsName, () => Measure(s => s.Workers
            .Where(w => w.BatchLatency is not null)
            .SelectMany(w => Quantiles.Select(q => new Measurement<double>(
                (q == 1 ? w.BatchLatency!.Max : w.BatchLatency!.Percentile(q)) / 1e9, new("worker", w.Id), new("quantile", q))))),
            "s", MetricCatalog.BatchSecondsHelp);
    }

    private static readonly double[] Quantiles = [0.5, 0.99, 0.999, 1];

    /// <inheritdoc />
    public void Dispose() => _meter.Dispose();

    private void Observe<T>(Metric<T> metric, Func<StatsSnapshot, IEnumerable<Measurement<double>>> measure)
    {
        if (metric.Kind == MetricKind.Counter)
        {
            _meter.CreateObservableCounter(metric.InstrumentName, () => Measure(measure), metric.Unit, metric.Help);
        }
        else
        {
            _meter.CreateObservableGauge(metric.InstrumentName, () => Measure(measure), metric.Unit, metric.Help);
        }
    }

    private IEnumerable<Measurement<double>> Measure(Func<StatsSnapshot, IEnumerable<Measurement<double>>> measure) =>
        Current() is { } snapshot ? measure(snapshot).ToArray() : [];

    private StatsSnapshot? Current()
    {
        lock (_lock)
        {
            if (_snapshot is null || Stopwatch.GetElapsedTime(_takenAt) > SnapshotReuse)
            {
                _snapshot = _read();
                _takenAt = Stopwatch.GetTimestamp();
            }

            return _snapshot;
        }
    }
}
