using System.Globalization;
using System.Text.Json;
using FastPath.Control.Maps.Etcd;
using FastPath.Control.Metrics;

namespace FastPath.Control.Stats;

/// <summary>The fleet follower's state as the <c>fleet</c> object of <c>stats --json</c>: the
/// <see cref="MetricCatalog.Fleet"/> rows, plus what only text can say (where, which generation, why not).</summary>
/// <remarks>Thread-safe: stateless.</remarks>
public static class FleetJson
{
    /// <summary>Writes the <c>fleet</c> member (nothing when <paramref name="fleet"/> is null).</summary>
    public static void Write(Utf8JsonWriter json, EtcdFollowerStatus? fleet)
    {
        if (fleet is null)
        {
            return;
        }

        json.WriteStartObject("fleet");
        json.WriteString("source", "etcd");
        json.WriteString("endpoint", fleet.Endpoint);
        json.WriteString("cluster_id", fleet.ClusterId.ToString("x16", CultureInfo.InvariantCulture));
        json.WriteString("generation", fleet.Generation);
        StatsJson.Members(json, MetricCatalog.Fleet, fleet);
        WriteNullable(json, "last_error", fleet.LastError);
        WriteNullable(json, "refused", fleet.Refused);
        json.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
