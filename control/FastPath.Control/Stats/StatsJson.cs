using System.Text.Json;
using FastPath.Control.Metrics;
using FastPath.Dataplane;

namespace FastPath.Control.Stats;

/// <summary>
/// Writes a <see cref="StatsSnapshot"/> as the members of a JSON object (the <c>stats</c> verb's result). Every
/// number that is also a metric comes from its <see cref="MetricCatalog"/> row; what is written here alone is layout,
/// names and the rates over the last interval.
/// </summary>
/// <remarks>Thread-safe: stateless.</remarks>
public static class StatsJson
{
    /// <summary>Writes <paramref name="stats"/> into the open object of <paramref name="json"/>.</summary>
    public static void Write(Utf8JsonWriter json, StatsSnapshot stats)
    {
        Members(json, MetricCatalog.Daemon, stats);
        json.WriteNumber("interval_seconds", Math.Round(stats.IntervalSeconds, 3));
        json.WriteStartObject("table");
        Members(json, MetricCatalog.Table, stats);
        json.WriteNumber("occupancy", stats.Capacity == 0 ? 0 : Math.Round((double)stats.Mappings / stats.Capacity, 4));
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
        json.WriteStartArray(MetricCatalog.GcCollections.Json!);
        for (int generation = 0; generation < stats.Runtime.Collections.Length; generation++)
        {
            json.WriteNumberValue((long)MetricCatalog.GcCollections.Read((stats.Runtime, generation)));
        }

        json.WriteEndArray();
        Members(json, MetricCatalog.Runtime, stats.Runtime);
        json.WriteEndObject();

        json.WriteStartArray("ports");
        foreach (PortStats port in stats.Ports)
        {
            json.WriteStartObject();
            json.WriteString("name", port.Name);
            json.WriteString("side", port.Side);
            json.WriteNumber("instances", port.Instances);
            Members(json, MetricCatalog.Port, port);
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
            Members(json, MetricCatalog.Worker, worker);
            WriteRates(json, worker.Rates);
            LatencyJson.Write(json, worker.BatchLatency);
            json.WriteStartObject(MetricCatalog.Drops.Json!);
            for (int reason = 1; reason < DropReasons.Count; reason++)
            {
                long dropped = (long)MetricCatalog.Drops.Read((worker, (DropReason)reason));
                json.WriteNumber(DropReasons.Name((DropReason)reason), dropped);
                total[reason] += dropped;
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartObject(MetricCatalog.Drops.Json!);
        for (int reason = 1; reason < DropReasons.Count; reason++)
        {
            json.WriteNumber(DropReasons.Name((DropReason)reason), total[reason]);
        }

        json.WriteEndObject();
    }

    /// <summary>The rows of <paramref name="metrics"/> that JSON shows, as members of the open object.</summary>
    internal static void Members<T>(Utf8JsonWriter json, Metric<T>[] metrics, T source)
    {
        foreach (Metric<T> metric in metrics)
        {
            if (metric.Json is null)
            {
                continue;
            }

            double value = metric.Read(source);
            if (metric.Kind == MetricKind.Flag)
            {
                json.WriteBoolean(metric.Json, value != 0);
            }
            else if (metric.JsonDecimals >= 0)
            {
                json.WriteNumber(metric.Json, Math.Round(value, metric.JsonDecimals));
            }
            else
            {
                json.WriteNumber(metric.Json, (long)value);
            }
        }
    }

    private static void WriteRates(Utf8JsonWriter json, Rates rates)
    {
        json.WriteNumber("rx_pps", Math.Round(rates.RxPps, 1));
        json.WriteNumber("rx_bps", Math.Round(rates.RxBps, 1));
        json.WriteNumber("tx_pps", Math.Round(rates.TxPps, 1));
        json.WriteNumber("tx_bps", Math.Round(rates.TxBps, 1));
    }
}
