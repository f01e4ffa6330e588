using System.Globalization;
using System.Text.Json;
using FastPath.Control.Metrics;
using FastPath.Dataplane;
using FastPath.Testing;

namespace FastPath.Cli.Tests.Daemon;

/// <summary>
/// One metric definition feeds three readers: every row of <see cref="MetricCatalog"/> is a family in
/// <c>/metrics</c> (which <c>promtool check metrics</c> accepts), carries the same value as its member of
/// <c>stats --json</c>, and is an instrument of the <c>FastPath</c> meter that the real <c>dotnet-counters</c>
/// (the repo's tool manifest) reads from the running daemon.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class MetricDefinitionTests : IDisposable
{
    private const int Packets = 50_000;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Prometheus_stats_and_dotnet_counters_show_every_catalog_row_with_one_value()
    {
        File.WriteAllText(_dir.File("maps.json"), """{ "mappings": [ { "tenant": 100, "user": "10.0.0.0", "secure": "11.0.0.0" } ] }""");
        int metricsPort = FreePorts.One();
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, $$"""
            {
              "workers": 1, "maps": "maps.json", "metrics": "127.0.0.1:{{metricsPort}}",
              "ports": { "u0": { "type": "generator", "mappings": 2, "flows": 2, "packets": {{Packets}} }, "s0": { "type": "sink" } },
              "pairs": [ { "user": "u0", "secure": "s0" } ]
            }
            """);
        using var daemon = DaemonProcess.Start(config, "unix:" + _dir.File("control.sock"));
        JsonElement stats = default;
        for (int i = 0; i < 100; i++)
        {
            stats = JsonDocument.Parse(daemon.Cli("stats", "--json").EnsureSuccess().StandardOutput).RootElement;
            if (stats.GetProperty("workers")[0].GetProperty("rx_packets").GetInt64() == Packets)
            {
                break;
            }

            Thread.Sleep(200);
        }

        // The generator is done: every counter is still from here on, so the two reads must agree exactly.
        Assert.Equal(Packets, stats.GetProperty("workers")[0].GetProperty("rx_packets").GetInt64());
        stats = JsonDocument.Parse(daemon.Cli("stats", "--json").EnsureSuccess().StandardOutput).RootElement;
        string metrics = ProcessRunner.Run("curl", "-sSf", $"http://127.0.0.1:{metricsPort}/metrics").EnsureSuccess().StandardOutput;
        ProcessResult check = ProcessRunner.Run("promtool", ["check", "metrics"], standardInput: metrics);
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);

        foreach (JsonElement port in stats.GetProperty("ports").EnumerateArray())
        {
            string labels = $"port=\"{port.GetProperty("name").GetString()}\",side=\"{port.GetProperty("side").GetString()}\"";
            foreach (Metric<Control.Stats.PortStats> metric in MetricCatalog.Port)
            {
                AssertFamily(metrics, metric.Name, metric.Kind);
                Assert.Equal(port.GetProperty(metric.Json!).GetInt64(), Sample(metrics, metric.Name, labels));
            }
        }

        JsonElement worker = stats.GetProperty("workers")[0];
        foreach (Metric<Control.Stats.WorkerStats> metric in MetricCatalog.Worker)
        {
            AssertFamily(metrics, metric.Name, metric.Kind);
            if (metric.Kind == MetricKind.Counter)
            {
                Assert.Equal(worker.GetProperty(metric.Json!).GetInt64(), Sample(metrics, metric.Name, "worker=\"0\""));
            }
        }

        AssertFamily(metrics, MetricCatalog.Drops.Name, MetricKind.Counter);
        for (int reason = 1; reason < DropReasons.Count; reason++)
        {
            string name = DropReasons.Name((DropReason)reason);
            Assert.Equal(worker.GetProperty("drops").GetProperty(name).GetInt64(), Sample(metrics, MetricCatalog.Drops.Name, $"worker=\"0\",reason=\"{name}\""));
        }

        foreach (Metric<Control.Stats.StatsSnapshot> metric in MetricCatalog.Table)
        {
            AssertFamily(metrics, metric.Name, metric.Kind);
            Assert.Equal(stats.GetProperty("table").GetProperty(metric.Json!).GetInt64(), Sample(metrics, metric.Name, null));
        }

        foreach (var metric in MetricCatalog.Daemon.Select(m => (m.Name, m.Kind)).Concat(MetricCatalog.Runtime.Select(m => (m.Name, m.Kind))))
        {
            AssertFamily(metrics, metric.Name, metric.Kind);
        }

        AssertFamily(metrics, MetricCatalog.GcCollections.Name, MetricKind.Counter);

        // dotnet-counters attaches over the diagnostics IPC socket and reads the FastPath meter for 3 s.
        string output = _dir.File("counters.json");
        ProcessRunner.Run("dotnet", ["tool", "run", "dotnet-counters", "--", "collect", "-p", daemon.Pid.ToString(CultureInfo.InvariantCulture),
            "--counters", FastPathMeter.Name, "--format", "json", "-o", output, "--duration", "00:00:00:03"],
            timeout: TimeSpan.FromSeconds(60), workingDirectory: FastpathProcess.RepositoryRoot).EnsureSuccess();
        var seen = new Dictionary<string, List<(string Tags, double Value)>>();
        foreach (JsonElement e in JsonDocument.Parse(File.ReadAllText(output)).RootElement.GetProperty("Events").EnumerateArray())
        {
            Assert.Equal(FastPathMeter.Name, e.GetProperty("provider").GetString());
            string name = e.GetProperty("name").GetString()!.Split(' ')[0];
            if (!seen.TryGetValue(name, out var values))
            {
                seen[name] = values = [];
            }

            values.Add((e.GetProperty("tags").GetString()!, e.GetProperty("value").GetDouble()));
        }

        string[] expected = [.. MetricCatalog.Port.Select(m => m.InstrumentName), .. MetricCatalog.Worker.Select(m => m.InstrumentName),
            MetricCatalog.Drops.InstrumentName, .. MetricCatalog.Table.Select(m => m.InstrumentName), .. MetricCatalog.Daemon.Select(m => m.InstrumentName),
            .. MetricCatalog.Runtime.Select(m => m.InstrumentName), MetricCatalog.GcCollections.InstrumentName, MetricCatalog.BatchSecondsName];
        Assert.Empty(expected.Except(seen.Keys));
        Assert.Contains(seen["fastpath_port_rx_packets"], s => s.Tags == "port=u0,side=user");
        Assert.Contains(seen["fastpath_drops"], s => s.Tags == "reason=no-mapping,worker=0");
        Assert.All(seen["fastpath_mappings"], s => Assert.Equal(stats.GetProperty("table").GetProperty("mappings").GetInt64(), s.Value));
        Assert.All(seen["fastpath_mapping_capacity"], s => Assert.Equal(stats.GetProperty("table").GetProperty("capacity").GetInt64(), s.Value));
        Assert.Contains(seen[MetricCatalog.BatchSecondsName], s => s.Tags == "quantile=0.99,worker=0" && s.Value > 0);
        Assert.Equal(0, daemon.Stop(TimeSpan.FromSeconds(30)));
    }

    private static void AssertFamily(string metrics, string name, MetricKind kind) =>
        Assert.Contains($"# TYPE {name} {(kind == MetricKind.Counter ? "counter" : "gauge")}\n", metrics, StringComparison.Ordinal);

    private static long Sample(string metrics, string name, string? labels)
    {
        string prefix = labels is null ? name + " " : $"{name}{{{labels}}} ";
        string line = metrics.Split('\n').Single(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return long.Parse(line[prefix.Length..], CultureInfo.InvariantCulture);
    }

}
