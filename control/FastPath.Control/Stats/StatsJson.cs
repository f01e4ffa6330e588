using System.Text.Json;
using FastPath.Dataplane;

namespace FastPath.Control.Stats;

/// <summary>Writes a <see cref="StatsSnapshot"/> as the members of a JSON object (the <c>stats</c> verb's result).</summary>
/// <remarks>Thread-safe: stateless.</remarks>
public static class StatsJson
{
    /// <summary>Writes <paramref name="stats"/> into the open object of <paramref name="json"/>.</summary>
    public static void Write(Utf8JsonWriter json, StatsSnapshot stats)
    {
        json.WriteNumber("uptime_seconds", Math.Round(stats.UptimeSeconds, 3));
        json.WriteNumber("interval_seconds", Math.Round(stats.IntervalSeconds, 3));
        json.WriteStartObject("table");
        json.WriteNumber("mappings", stats.Mappings);
        json.WriteNumber("capacity", stats.Capacity);
        json.WriteNumber("occupancy", stats.Capacity == 0 ? 0 : Math.Round((double)stats.Mappings / stats.Capacity, 4));
        json.WriteNumber("updates", stats.MapUpdates);
        json.WriteEndObject();
        FleetJson.Write(json, stats.Fleet);
        json.WriteStartObject("vtpm");
        json.WriteString("state", stats.Vtpm);
        if (stats.PairStatusJson is not null)
        {
            json.WritePropertyName("pair");
            json.WriteRawValue(stats.PairStatusJson);
        }

        json.WriteEndObject();
        json.WriteStartObject("runtime");
        json.WriteStartArray("gc_collections");
        foreach (long count in stats.Runtime.Collections)
        {
            json.WriteNumberValue(count);
        }

        json.WriteEndArray();
        json.WriteNumber("gc_pause_seconds", Math.Round(stats.Runtime.PauseSeconds, 6));
        json.WriteNumber("heap_bytes", stats.Runtime.HeapBytes);
        json.WriteEndObject();

        json.WriteStartArray("ports");
        foreach (PortStats port in stats.Ports)
        {
            json.WriteStartObject();
            json.WriteString("name", port.Name);
            json.WriteString("side", port.Side);
            json.WriteNumber("instances", port.Instances);
            json.WriteNumber("rx_packets", port.RxPackets);
            json.WriteNumber("rx_bytes", port.RxBytes);
            json.WriteNumber("tx_packets", port.TxPackets);
            json.WriteNumber("tx_bytes", port.TxBytes);
            json.WriteNumber("kernel_drops", port.KernelDrops);
            json.WriteNumber("tx_errors", port.TxErrors);
            WriteRates(json, port.Rates);
            json.WriteEndObject();
        }

        json.WriteEndArray();

        var total = new long[DropReasons.Count];
        json.WriteStartArray("workers");
        foreach (WorkerStats worker in stats.Workers)
        {
            json.WriteStartObject();
            json.WriteNumber("id", worker.Id);
            json.WriteNumber("core", worker.Core);
            json.WriteNumber("rx_packets", worker.RxPackets);
            json.WriteNumber("rx_bytes", worker.RxBytes);
            json.WriteNumber("tx_packets", worker.TxPackets);
            json.WriteNumber("tx_bytes", worker.TxBytes);
            json.WriteNumber("busy", Math.Round(worker.Busy, 4));
            WriteRates(json, worker.Rates);
            LatencyJson.Write(json, worker.BatchLatency);
            json.WriteStartObject("drops");
            for (int reason = 1; reason < DropReasons.Count; reason++)
            {
                json.WriteNumber(DropReasons.Name((DropReason)reason), worker.Drops[reason]);
                total[reason] += worker.Drops[reason];
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartObject("drops");
        for (int reason = 1; reason < DropReasons.Count; reason++)
        {
            json.WriteNumber(DropReasons.Name((DropReason)reason), total[reason]);
        }

        json.WriteEndObject();
    }

    private static void WriteRates(Utf8JsonWriter json, Rates rates)
    {
        json.WriteNumber("rx_pps", Math.Round(rates.RxPps, 1));
        json.WriteNumber("rx_bps", Math.Round(rates.RxBps, 1));
        json.WriteNumber("tx_pps", Math.Round(rates.TxPps, 1));
        json.WriteNumber("tx_bps", Math.Round(rates.TxBps, 1));
    }
}
