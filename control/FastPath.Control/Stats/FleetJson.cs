using System.Globalization;
using System.Text;
using System.Text.Json;
using FastPath.Control.Maps.Etcd;

namespace FastPath.Control.Stats;

/// <summary>The fleet follower's state in <c>stats --json</c> (<c>fleet</c>) and as <c>fastpath_maps_*</c> metrics.</summary>
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
        json.WriteBoolean("etcd_up", fleet.Up);
        json.WriteString("endpoint", fleet.Endpoint);
        json.WriteString("cluster_id", fleet.ClusterId.ToString("x16", CultureInfo.InvariantCulture));
        json.WriteString("generation", fleet.Generation);
        json.WriteNumber("revision", fleet.Revision);
        json.WriteNumber("head_revision", fleet.HeadRevision);
        json.WriteNumber("lag", fleet.Lag);
        json.WriteNumber("reconnects", fleet.Reconnects);
        json.WriteNumber("snapshots", fleet.Snapshots);
        json.WriteNumber("applied", fleet.Applied);
        json.WriteNumber("malformed", fleet.Malformed);
        if (fleet.LastError is null)
        {
            json.WriteNull("last_error");
        }
        else
        {
            json.WriteString("last_error", fleet.LastError);
        }

        if (fleet.Refused is null)
        {
            json.WriteNull("refused");
        }
        else
        {
            json.WriteString("refused", fleet.Refused);
        }

        json.WriteEndObject();
    }

    /// <summary>Appends the <c>fastpath_maps_*</c> families (nothing when <paramref name="fleet"/> is null).</summary>
    public static void WriteMetrics(StringBuilder text, EtcdFollowerStatus? fleet)
    {
        if (fleet is null)
        {
            return;
        }

        Metric(text, "fastpath_maps_etcd_up", "gauge", "1 while the daemon's watch on etcd is live.", fleet.Up ? 1 : 0);
        Metric(text, "fastpath_maps_revision", "gauge", "The etcd revision the mapping table holds.", fleet.Revision);
        Metric(text, "fastpath_maps_head_revision", "gauge", "etcd's newest revision as last seen.", fleet.HeadRevision);
        Metric(text, "fastpath_maps_lag_revisions", "gauge", "Revisions etcd is ahead of the table.", fleet.Lag);
        Metric(text, "fastpath_maps_etcd_reconnects_total", "counter", "Times the watch was re-established after a failure.", fleet.Reconnects);
        Metric(text, "fastpath_maps_snapshots_total", "counter", "Whole-table loads from etcd (start, compaction, import).", fleet.Snapshots);
        Metric(text, "fastpath_maps_malformed_total", "counter", "etcd keys skipped because they are not a mapping.", fleet.Malformed);
        Metric(text, "fastpath_maps_refused", "gauge", "1 when the daemon stopped following etcd (a changed cluster id).", fleet.Refused is null ? 0 : 1);
    }

    private static void Metric(StringBuilder text, string name, string type, string help, long value) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
            .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n')
            .Append(name).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');
}
