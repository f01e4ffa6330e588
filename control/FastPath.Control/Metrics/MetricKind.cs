namespace FastPath.Control.Metrics;

/// <summary>How a metric's value behaves, which decides its Prometheus type, its .NET instrument and its JSON form.</summary>
public enum MetricKind
{
    /// <summary>A total that only grows (Prometheus <c>counter</c>, <c>ObservableCounter</c>, a JSON number).</summary>
    Counter,

    /// <summary>A value that goes up and down (Prometheus <c>gauge</c>, <c>ObservableGauge</c>, a JSON number).</summary>
    Gauge,

    /// <summary>A yes/no gauge: 0 or 1 in Prometheus and the instrument, <c>true</c>/<c>false</c> in JSON.</summary>
    Flag,
}
