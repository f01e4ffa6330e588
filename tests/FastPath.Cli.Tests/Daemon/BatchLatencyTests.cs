using System.Text.Json;
using System.Text.RegularExpressions;
using FastPath.Testing;

namespace FastPath.Cli.Tests.Daemon;

/// <summary>
/// Batch service-time histograms end to end: config (generator → sink, metrics on) → <c>fastpath run</c> forwards →
/// <c>stats</c> shows p50/p99/p99.9/max per worker, and <c>/metrics</c> carries a histogram that <c>promtool check
/// metrics</c> accepts, whose buckets are cumulative and whose count is the worker's batches.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed partial class BatchLatencyTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Stats_and_prometheus_show_each_workers_batch_service_time()
    {
        File.WriteAllText(_dir.File("maps.json"), """{ "mappings": [ { "tenant": 100, "user": "10.0.0.0", "secure": "11.0.0.0" } ] }""");
        int metricsPort = FreePorts.One();
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, $$"""
            {
              "workers": 1, "maps": "maps.json", "metrics": "127.0.0.1:{{metricsPort}}",
              "ports": { "u0": { "type": "generator", "mappings": 1, "flows": 1, "packets": 100000 }, "s0": { "type": "sink" } },
              "pairs": [ { "user": "u0", "secure": "s0" } ]
            }
            """);
        using var daemon = DaemonProcess.Start(config, "unix:" + _dir.File("control.sock"));

        JsonElement worker = default;
        for (int i = 0; i < 100; i++)
        {
            worker = JsonDocument.Parse(daemon.Cli("stats", "--json").EnsureSuccess().StandardOutput).RootElement.GetProperty("workers")[0];
            if (worker.GetProperty("rx_packets").GetInt64() == 100_000)
            {
                break;
            }

            Thread.Sleep(200);
        }

        Assert.Equal(100_000, worker.GetProperty("rx_packets").GetInt64());
        JsonElement batch = worker.GetProperty("batch_ns");
        long count = batch.GetProperty("count").GetInt64();
        Assert.True(count >= 100_000 / 64, $"{count} batches for 100000 packets");
        long p50 = batch.GetProperty("p50").GetInt64(), p99 = batch.GetProperty("p99").GetInt64(), p999 = batch.GetProperty("p999").GetInt64(), max = batch.GetProperty("max").GetInt64();
        Assert.True(p50 > 0 && p50 <= p99 && p99 <= p999 && p999 <= max, $"p50 {p50} p99 {p99} p99.9 {p999} max {max}");

        string text = daemon.Cli("stats").EnsureSuccess().StandardOutput;
        Assert.Matches(@"worker\s+batches\s+batch p50\s+p99\s+p99\.9\s+max", text);
        Assert.Matches($@"\n0\s+{count}\s+\S+s\s+\S+s\s+\S+s\s+\S+s\n", text);

        string metrics = ProcessRunner.Run("curl", "-sSf", $"http://127.0.0.1:{metricsPort}/metrics").EnsureSuccess().StandardOutput;
        ProcessResult check = ProcessRunner.Run("promtool", ["check", "metrics"], standardInput: metrics);
        Assert.True(check.ExitCode == 0, check.StandardOutput + check.StandardError);

        Assert.Contains("# TYPE fastpath_worker_batch_seconds histogram", metrics, StringComparison.Ordinal);
        long previous = 0;
        MatchCollection buckets = Bucket().Matches(metrics);
        Assert.Equal(25, buckets.Count);
        foreach (Match bucket in buckets)
        {
            long cumulative = long.Parse(bucket.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(cumulative >= previous, $"bucket le={bucket.Groups[1].Value} went down");
            previous = cumulative;
        }

        Assert.Equal("+Inf", buckets[^1].Groups[1].Value);
        Assert.Equal(count, previous);
        Assert.Contains($"fastpath_worker_batch_seconds_count{{worker=\"0\"}} {count}\n", metrics, StringComparison.Ordinal);
        Assert.Equal(0, daemon.Stop(TimeSpan.FromSeconds(30)));
    }


    [GeneratedRegex("""fastpath_worker_batch_seconds_bucket\{worker="0",le="([^"]+)"\} (\d+)""")]
    private static partial Regex Bucket();
}
