using System.Text.Json;
using FastPath.Dataplane.Pipeline;

namespace FastPath.Control.Stats;

/// <summary>A worker's <c>batch_ns</c> object in <c>stats --json</c>: batches, p50, p99, p99.9 and max service time (ns).</summary>
/// <remarks>Stateless.</remarks>
internal static class LatencyJson
{
    public static void Write(Utf8JsonWriter json, LatencySnapshot? latency)
    {
        if (latency is null)
        {
            return;
        }

        json.WriteStartObject("batch_ns");
        json.WriteNumber("count", latency.Count);
        json.WriteNumber("p50", latency.Percentile(0.50));
        json.WriteNumber("p99", latency.Percentile(0.99));
        json.WriteNumber("p999", latency.Percentile(0.999));
        json.WriteNumber("max", latency.Max);
        json.WriteEndObject();
    }
}
