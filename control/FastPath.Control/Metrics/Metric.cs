namespace FastPath.Control.Metrics;

/// <summary>
/// One metric, defined once: its Prometheus family, its member in <c>stats --json</c>, its .NET instrument, and how
/// to read it from what it describes (<typeparamref name="TSource"/>: a port, a worker, the table, the fleet, the
/// daemon). <see cref="MetricCatalog"/> holds every row; the three views only render them.
/// </summary>
/// <param name="Name">Prometheus family name (<c>fastpath_…</c>, counters end in <c>_total</c>).</param>
/// <param name="Kind">Counter, gauge or flag.</param>
/// <param name="Help">One sentence: the Prometheus HELP text and the instrument's description.</param>
/// <param name="Json">The member name in <c>stats --json</c>, or null when JSON shows the fact differently (a string).</param>
/// <param name="Read">The value, from a snapshot of its source.</param>
/// <param name="Unit">The instrument's unit (UCUM-style, as .NET and OpenTelemetry expect), or null.</param>
/// <param name="JsonDecimals">Decimals kept in JSON for a fractional value, or -1 for a whole number.</param>
/// <remarks>Immutable.</remarks>
public sealed record Metric<TSource>(string Name, MetricKind Kind, string Help, string? Json, Func<TSource, double> Read, string? Unit = null, int JsonDecimals = -1)
{
    /// <summary>The instrument's name: the family without Prometheus's <c>_total</c> suffix, which exporters add back.</summary>
    public string InstrumentName => Kind == MetricKind.Counter && Name.EndsWith("_total", StringComparison.Ordinal) ? Name[..^"_total".Length] : Name;
}
