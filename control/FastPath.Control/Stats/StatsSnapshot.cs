namespace FastPath.Control.Stats;

/// <summary>Everything <c>fastpath stats</c> and <c>/metrics</c> show, read at one moment.</summary>
/// <param name="UptimeSeconds">Seconds since the daemon started.</param>
/// <param name="IntervalSeconds">Length of the interval the rates are over.</param>
/// <param name="Ports">Per-port figures.</param>
/// <param name="Workers">Per-worker figures.</param>
/// <param name="Mappings">Mappings in the table.</param>
/// <param name="Capacity">Entries the table holds before it grows.</param>
/// <param name="MapUpdates">Successful adds, deletes and imports since start.</param>
/// <param name="Vtpm">vTPM state: <c>off</c>, or <c>single</c>/<c>pair</c> and where: <c>unix:PATH</c> or <c>127.0.0.1:PORT</c>.</param>
/// <param name="PairStatusJson">The pair's status object (what <c>fastpath vtpm status</c> shows), or null: no pair, or
/// a reader that does not show it (metrics).</param>
/// <param name="Runtime">Garbage collections and their pauses.</param>
/// <param name="Fleet">How the table follows etcd (README "Fleet"), or null when the maps are not in etcd.</param>
/// <remarks>Immutable.</remarks>
public sealed record StatsSnapshot(double UptimeSeconds, double IntervalSeconds, IReadOnlyList<PortStats> Ports, IReadOnlyList<WorkerStats> Workers,
    long Mappings, long Capacity, long MapUpdates, string Vtpm, string? PairStatusJson, RuntimeStats Runtime, Maps.Etcd.EtcdFollowerStatus? Fleet = null);
