using System.Globalization;
using System.Text;
using FastPath.Control.Stats;
using FastPath.Dataplane;

namespace FastPath.Control.Metrics;

/// <summary>
/// Renders a <see cref="StatsSnapshot"/> in the Prometheus text exposition format (version 0.0.4): counters are
/// totals (Prometheus derives rates), names start with <c>fastpath_</c>, labels say port, side, worker and reason.
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
        Family(text, "fastpath_port_rx_packets_total", "counter", "Frames received on a port.");
        foreach (PortStats p in stats.Ports)
        {
            Sample(text, "fastpath_port_rx_packets_total", PortLabels(p), p.RxPackets);
        }

        Family(text, "fastpath_port_rx_bytes_total", "counter", "Bytes received on a port.");
        foreach (PortStats p in stats.Ports)
        {
            Sample(text, "fastpath_port_rx_bytes_total", PortLabels(p), p.RxBytes);
        }

        Family(text, "fastpath_port_tx_packets_total", "counter", "Frames sent on a port.");
        foreach (PortStats p in stats.Ports)
        {
            Sample(text, "fastpath_port_tx_packets_total", PortLabels(p), p.TxPackets);
        }

        Family(text, "fastpath_port_tx_bytes_total", "counter", "Bytes sent on a port.");
        foreach (PortStats p in stats.Ports)
        {
            Sample(text, "fastpath_port_tx_bytes_total", PortLabels(p), p.TxBytes);
        }

        Family(text, "fastpath_port_kernel_drops_total", "counter", "Frames the kernel dropped before FastPath saw them (AF_PACKET ring full).");
        foreach (PortStats p in stats.Ports)
        {
            Sample(text, "fastpath_port_kernel_drops_total", PortLabels(p), p.KernelDrops);
        }

        Family(text, "fastpath_port_tx_errors_total", "counter", "Frames a port took but could not write out (its output failed).");
        foreach (PortStats p in stats.Ports)
        {
            Sample(text, "fastpath_port_tx_errors_total", PortLabels(p), p.TxErrors);
        }

        Family(text, "fastpath_worker_rx_packets_total", "counter", "Frames a worker received.");
        foreach (WorkerStats w in stats.Workers)
        {
            Sample(text, "fastpath_worker_rx_packets_total", WorkerLabel(w), w.RxPackets);
        }

        Family(text, "fastpath_worker_rx_bytes_total", "counter", "Bytes a worker received.");
        foreach (WorkerStats w in stats.Workers)
        {
            Sample(text, "fastpath_worker_rx_bytes_total", WorkerLabel(w), w.RxBytes);
        }

        Family(text, "fastpath_worker_tx_packets_total", "counter", "Frames a worker sent.");
        foreach (WorkerStats w in stats.Workers)
        {
            Sample(text, "fastpath_worker_tx_packets_total", WorkerLabel(w), w.TxPackets);
        }

        Family(text, "fastpath_worker_tx_bytes_total", "counter", "Bytes a worker sent.");
        foreach (WorkerStats w in stats.Workers)
        {
            Sample(text, "fastpath_worker_tx_bytes_total", WorkerLabel(w), w.TxBytes);
        }

        Family(text, "fastpath_drops_total", "counter", "Frames a worker dropped, by reason.");
        foreach (WorkerStats w in stats.Workers)
        {
            for (int reason = 1; reason < DropReasons.Count; reason++)
            {
                Sample(text, "fastpath_drops_total", $"worker=\"{w.Id}\",reason=\"{DropReasons.Name((DropReason)reason)}\"", w.Drops[reason]);
            }
        }

        Family(text, "fastpath_mappings", "gauge", "Mappings in the table.");
        Sample(text, "fastpath_mappings", null, stats.Mappings);
        Family(text, "fastpath_mapping_capacity", "gauge", "Entries the table holds before it grows.");
        Sample(text, "fastpath_mapping_capacity", null, stats.Capacity);
        Family(text, "fastpath_map_updates_total", "counter", "Successful map adds, deletes and imports.");
        Sample(text, "fastpath_map_updates_total", null, stats.MapUpdates);
        FleetJson.WriteMetrics(text, stats.Fleet);
        Family(text, "fastpath_vtpm_up", "gauge", "1 when the daemon serves a vTPM.");
        Sample(text, "fastpath_vtpm_up", null, stats.Vtpm == "off" ? 0 : 1);
        PrometheusLatency.Append(text, stats.Workers);
        Family(text, "fastpath_gc_collections_total", "counter", "Garbage collections by generation; each one suspends the workers.");
        for (int generation = 0; generation < stats.Runtime.Collections.Length; generation++)
        {
            Sample(text, "fastpath_gc_collections_total", $"generation=\"{generation}\"", stats.Runtime.Collections[generation]);
        }

        Family(text, "fastpath_gc_pause_seconds_total", "counter", "Time every managed thread, workers included, was suspended for garbage collection.");
        text.Append("fastpath_gc_pause_seconds_total ").Append(stats.Runtime.PauseSeconds.ToString("F6", CultureInfo.InvariantCulture)).Append('\n');
        Family(text, "fastpath_uptime_seconds", "gauge", "Seconds since the daemon started.");
        text.Append("fastpath_uptime_seconds ").Append(stats.UptimeSeconds.ToString("F3", CultureInfo.InvariantCulture)).Append('\n');
        return text.ToString();
    }

    private static string PortLabels(PortStats port) => $"port=\"{port.Name}\",side=\"{port.Side}\"";

    private static string WorkerLabel(WorkerStats worker) => $"worker=\"{worker.Id}\"";

    private static void Family(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Sample(StringBuilder text, string name, string? labels, long value)
    {
        text.Append(name);
        if (labels is not null)
        {
            text.Append('{').Append(labels).Append('}');
        }

        text.Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
    }
}
