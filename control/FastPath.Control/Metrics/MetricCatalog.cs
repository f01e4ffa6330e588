using FastPath.Control.Maps.Etcd;
using FastPath.Control.Stats;
using FastPath.Dataplane;

namespace FastPath.Control.Metrics;

/// <summary>
/// Every metric the daemon shows, each defined once. <see cref="PrometheusText"/> (<c>/metrics</c>),
/// <see cref="StatsJson"/> (<c>fastpath stats --json</c>) and <see cref="FastPathMeter"/> (the <c>FastPath</c> meter
/// that <c>dotnet-counters</c> and OpenTelemetry read) render these rows and add nothing of their own but layout, so
/// a new counter is one line here and appears in all three.
/// </summary>
/// <remarks>Immutable.</remarks>
public static class MetricCatalog
{
    /// <summary>Per port; labels <c>port</c> and <c>side</c>; members of each <c>ports[]</c> object.</summary>
    public static readonly Metric<PortStats>[] Port =
    [
        new("fastpath_port_rx_packets_total", MetricKind.Counter, "Frames received on a port.", "rx_packets", p => p.RxPackets, "{packet}"),
        new("fastpath_port_rx_bytes_total", MetricKind.Counter, "Bytes received on a port.", "rx_bytes", p => p.RxBytes, "By"),
        new("fastpath_port_tx_packets_total", MetricKind.Counter, "Frames sent on a port.", "tx_packets", p => p.TxPackets, "{packet}"),
        new("fastpath_port_tx_bytes_total", MetricKind.Counter, "Bytes sent on a port.", "tx_bytes", p => p.TxBytes, "By"),
        new("fastpath_port_kernel_drops_total", MetricKind.Counter, "Frames the kernel dropped before FastPath saw them (AF_PACKET ring full).",
            "kernel_drops", p => p.KernelDrops, "{packet}"),
        new("fastpath_port_tx_errors_total", MetricKind.Counter, "Frames a port took but could not write out (its output failed).",
            "tx_errors", p => p.TxErrors, "{packet}"),
    ];

    /// <summary>Per worker; label <c>worker</c>; members of each <c>workers[]</c> object.</summary>
    public static readonly Metric<WorkerStats>[] Worker =
    [
        new("fastpath_worker_rx_packets_total", MetricKind.Counter, "Frames a worker received.", "rx_packets", w => w.RxPackets, "{packet}"),
        new("fastpath_worker_rx_bytes_total", MetricKind.Counter, "Bytes a worker received.", "rx_bytes", w => w.RxBytes, "By"),
        new("fastpath_worker_tx_packets_total", MetricKind.Counter, "Frames a worker sent.", "tx_packets", w => w.TxPackets, "{packet}"),
        new("fastpath_worker_tx_bytes_total", MetricKind.Counter, "Bytes a worker sent.", "tx_bytes", w => w.TxBytes, "By"),
        new("fastpath_worker_busy_ratio", MetricKind.Gauge, "Share of the last sampling interval a worker spent on non-empty batches.",
            "busy", w => w.Busy, "1", JsonDecimals: 4),
    ];

    /// <summary>Per worker and drop reason; labels <c>worker</c> and <c>reason</c>; the <c>drops</c> object of each
    /// worker, keyed by reason (and summed over workers in the top-level <c>drops</c>).</summary>
    public static readonly Metric<(WorkerStats Worker, DropReason Reason)> Drops =
        new("fastpath_drops_total", MetricKind.Counter, "Frames a worker dropped, by reason (rx-ring-full: the kernel, at the full RX ring of a port the worker polls).", "drops", d => d.Worker.Drops[(int)d.Reason], "{packet}");

    /// <summary>The mapping table; members of the <c>table</c> object.</summary>
    public static readonly Metric<StatsSnapshot>[] Table =
    [
        new("fastpath_mappings", MetricKind.Gauge, "Mappings in the table.", "mappings", s => s.Mappings, "{mapping}"),
        new("fastpath_mapping_capacity", MetricKind.Gauge, "Entries the table holds before it grows.", "capacity", s => s.Capacity, "{mapping}"),
        new("fastpath_map_updates_total", MetricKind.Counter, "Successful map adds, deletes and imports.", "updates", s => s.MapUpdates, "{update}"),
    ];

    /// <summary>How the table follows etcd (only with fleet maps); members of the <c>fleet</c> object.</summary>
    public static readonly Metric<EtcdFollowerStatus>[] Fleet =
    [
        new("fastpath_maps_etcd_up", MetricKind.Flag, "1 while the daemon's watch on etcd is live.", "etcd_up", f => f.Up ? 1 : 0),
        new("fastpath_maps_revision", MetricKind.Gauge, "The etcd revision the mapping table holds.", "revision", f => f.Revision),
        new("fastpath_maps_head_revision", MetricKind.Gauge, "etcd's newest revision as last seen.", "head_revision", f => f.HeadRevision),
        new("fastpath_maps_lag_revisions", MetricKind.Gauge, "Revisions etcd is ahead of the table.", "lag", f => f.Lag, "{revision}"),
        new("fastpath_maps_etcd_reconnects_total", MetricKind.Counter, "Times the watch was re-established after a failure.", "reconnects", f => f.Reconnects),
        new("fastpath_maps_snapshots_total", MetricKind.Counter, "Whole-table loads from etcd (start, compaction, import).", "snapshots", f => f.Snapshots),
        new("fastpath_maps_applied_total", MetricKind.Counter, "Watch events (puts and deletes) applied to the table.", "applied", f => f.Applied),
        new("fastpath_maps_malformed_total", MetricKind.Counter, "etcd keys skipped because they are not a mapping.", "malformed", f => f.Malformed),
        new("fastpath_maps_refused", MetricKind.Flag, "1 when the daemon stopped following etcd (a changed cluster id); stats gives the reason.",
            null, f => f.Refused is null ? 0 : 1),
    ];

    /// <summary>The daemon as a whole; top-level members.</summary>
    public static readonly Metric<StatsSnapshot>[] Daemon =
    [
        new("fastpath_uptime_seconds", MetricKind.Gauge, "Seconds since the daemon started.", "uptime_seconds", s => s.UptimeSeconds, "s", JsonDecimals: 3),
        new("fastpath_vtpm_up", MetricKind.Flag, "1 when the daemon serves a vTPM; stats says which and where.", null, s => s.Vtpm == "off" ? 0 : 1),
    ];

    /// <summary>The .NET runtime (its collections suspend the workers too); members of the <c>runtime</c> object.</summary>
    public static readonly Metric<RuntimeStats>[] Runtime =
    [
        new("fastpath_gc_pause_seconds_total", MetricKind.Counter, "Time every managed thread, workers included, was suspended for garbage collection.",
            "gc_pause_seconds", r => r.PauseSeconds, "s", JsonDecimals: 6),
        new("fastpath_gc_heap_bytes", MetricKind.Gauge, "Managed heap size after the last garbage collection.", "heap_bytes", r => r.HeapBytes, "By"),
    ];

    /// <summary>Collections per generation; label <c>generation</c>; the <c>gc_collections</c> array of <c>runtime</c>.</summary>
    public static readonly Metric<(RuntimeStats Runtime, int Generation)> GcCollections =
        new("fastpath_gc_collections_total", MetricKind.Counter, "Garbage collections by generation; each one suspends the workers.",
            "gc_collections", g => g.Runtime.Collections[g.Generation], "{collection}");

    /// <summary>Each worker's batch service time (receive → last transmit): a Prometheus histogram, the
    /// <c>batch_ns</c> object of each worker, and quantile gauges on the meter (.NET has no observable histogram).</summary>
    public const string BatchSecondsName = "fastpath_worker_batch_seconds";

    /// <summary>The help text of <see cref="BatchSecondsName"/>.</summary>
    public const string BatchSecondsHelp = "Time a worker took for one batch, from receive to its last transmit.";
}
