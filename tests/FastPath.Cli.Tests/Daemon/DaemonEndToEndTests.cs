using System.Globalization;
using System.Text;
using System.Text.Json;
using FastPath.Testing;

namespace FastPath.Cli.Tests.Daemon;

/// <summary>
/// <c>fastpath run</c> as a child process between two kernel hosts in their own namespaces (tenant 0, untagged:
/// this machine's kernel has no 802.1Q), driven only through the CLI: mappings added, deleted and imported while
/// ICMP flows; stats, metrics and the hosts' own interface counters compared.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class DaemonEndToEndTests : IDisposable
{
    private const string UserV4 = DaemonHosts.UserV4;
    private const string SecureOfUserV4 = DaemonHosts.SecureOfUserV4;
    private const string SecureHostV4 = DaemonHosts.SecureHostV4;
    private const string UserPortMac = DaemonHosts.UserPortMac;
    private const string SecurePortMac = DaemonHosts.SecurePortMac;
    private const int ImportSize = 1_000_000;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Mappings_added_deleted_and_imported_through_the_cli_steer_real_traffic()
    {
        using NetnsLab lab = NetnsLab.CreateOrSkip();
        (string user, string userLink, string userRoot, string secure, string secureLink, string secureRoot) = DaemonHosts.Create(lab, "fpuser", "fpsec", "fp");

        string maps = _dir.File("maps.json");
        File.WriteAllText(maps, """{ "mappings": [ { "tenant": 0, "user": "198.18.1.99", "secure": "198.19.1.99" } ] }""");
        int metricsPort = FreePorts.One();
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, $$"""
            {
              "workers": 1,
              "maps": "maps.json",
              "metrics": "127.0.0.1:{{metricsPort}}",
              "ports": {
                "u0": { "type": "afpacket", "interface": "{{userRoot}}", "mac": "{{UserPortMac}}", "peer": "{{lab.Mac(user, userLink)}}" },
                "s0": { "type": "afpacket", "interface": "{{secureRoot}}", "mac": "{{SecurePortMac}}", "peer": "{{lab.Mac(secure, secureLink)}}" }
              },
              "pairs": [ { "user": "u0", "secure": "s0" } ]
            }
            """);

        // Links came up before IPv6 was switched off and may have carried a few frames: count from here.
        long userBaseline = LinkRxPackets(lab, user, userLink);
        long secureBaseline = LinkRxPackets(lab, secure, secureLink);
        using DaemonProcess daemon = DaemonProcess.Start(config, "unix:" + _dir.File("control.sock"));

        // No mapping yet: the echo requests are dropped as no-mapping.
        Assert.False(Ping(lab, user, 2).Ok);
        Assert.True(NoMapping(daemon) >= 2, daemon.Log);

        Assert.Equal(0, daemon.Cli("map", "add", "--tenant", "0", "--user", UserV4, "--secure", SecureOfUserV4).EnsureSuccess().ExitCode);
        (bool ok, string output) = Ping(lab, user, 3);
        Assert.True(ok, output);

        ProcessResult duplicate = daemon.Cli("map", "add", "--tenant", "0", "--user", UserV4, "--secure", "198.19.1.77");
        Assert.Equal(1, duplicate.ExitCode);
        Assert.Contains("conflict: (tenant 0, 198.18.1.5) is already mapped to 198.19.1.5", duplicate.StandardError);

        daemon.Cli("map", "del", "--tenant", "0", "--user", UserV4).EnsureSuccess();
        long before = NoMapping(daemon);
        Assert.False(Ping(lab, user, 3).Ok);
        Assert.True(NoMapping(daemon) >= before + 3);

        // Single updates, then a million-entry import, while a bounded stream for the unchanged mapping runs: no echo is lost to it.
        daemon.Cli("map", "add", "--tenant", "0", "--user", UserV4, "--secure", SecureOfUserV4).EnsureSuccess();
        string big = _dir.File("big.json");
        WriteBigMaps(big);
        long dropsBefore = NoMapping(daemon);
        bool importDone = false;
        var chunks = new List<(bool Ok, string Output)>();
        var stream = new Thread(() =>
        {
            bool last;
            do
            {
                last = Volatile.Read(ref importDone);
                chunks.Add(Ping(lab, user, 100, "0.01"));
            }
            while (!last);
        });
        stream.Start();

        // Single adds and deletes of other mappings while the stream runs: no loss for the unchanged flow either.
        for (int i = 0; i < 5; i++)
        {
            daemon.Cli("map", "add", "--tenant", "7", "--user", "198.18.3.1", "--secure", "198.19.3.1").EnsureSuccess();
            daemon.Cli("map", "del", "--tenant", "7", "--user", "198.18.3.1").EnsureSuccess();
        }

        ProcessResult import = daemon.Cli("map", "import", big);
        Volatile.Write(ref importDone, true);
        Assert.True(stream.Join(TimeSpan.FromMinutes(5)), "the traffic stream did not finish");
        Assert.True(import.ExitCode == 0, import.StandardError + daemon.Log);
        Assert.Contains($"imported {ImportSize} mappings", import.StandardOutput);
        Assert.True(chunks.Count >= 2, "the traffic stream must span the import");
        // A lost echo names its cause: a drop reason, the kernel's ring, or the collector's pauses (which stop the worker).
        string afterImport = daemon.Cli("stats", "--json").StandardOutput;
        Assert.All(chunks, chunk => Assert.True(chunk.Ok, chunk.Output + "\nimport: " + import.StandardOutput + "\nstats: " + afterImport));
        Assert.Equal(dropsBefore, NoMapping(daemon));

        // Stats, metrics and the hosts' interface counters agree once the wires are quiet.
        JsonElement stats = QuietStats(daemon);
        Assert.Equal(ImportSize, stats.GetProperty("table").GetProperty("mappings").GetInt64());
        string metrics = Curl(metricsPort);
        foreach (JsonElement port in stats.GetProperty("ports").EnumerateArray())
        {
            string name = port.GetProperty("name").GetString()!;
            string side = port.GetProperty("side").GetString()!;
            Assert.Equal(0, port.GetProperty("kernel_drops").GetInt64());
            Assert.Equal(port.GetProperty("tx_packets").GetInt64(), Metric(metrics, "fastpath_port_tx_packets_total", $"port=\"{name}\",side=\"{side}\""));
            Assert.Equal(port.GetProperty("rx_packets").GetInt64(), Metric(metrics, "fastpath_port_rx_packets_total", $"port=\"{name}\",side=\"{side}\""));
            (string ns, string link, long baseline) = name == "u0" ? (user, userLink, userBaseline) : (secure, secureLink, secureBaseline);
            Assert.Equal(LinkRxPackets(lab, ns, link) - baseline, port.GetProperty("tx_packets").GetInt64());
        }

        JsonElement worker = stats.GetProperty("workers")[0];
        Assert.Equal(worker.GetProperty("rx_packets").GetInt64(), Metric(metrics, "fastpath_worker_rx_packets_total", "worker=\"0\""));
        Assert.Equal(worker.GetProperty("drops").GetProperty("no-mapping").GetInt64(), Metric(metrics, "fastpath_drops_total", "worker=\"0\",reason=\"no-mapping\""));
        // The kernel's ring drops of the worker's ports are its rx-ring-full drops, in JSON and metrics alike.
        long kernelDrops = stats.GetProperty("ports").EnumerateArray().Sum(p => p.GetProperty("kernel_drops").GetInt64());
        Assert.Equal(kernelDrops, worker.GetProperty("drops").GetProperty("rx-ring-full").GetInt64());
        Assert.Equal(kernelDrops, Metric(metrics, "fastpath_drops_total", "worker=\"0\",reason=\"rx-ring-full\""));
        Assert.Equal(ImportSize, Metric(metrics, "fastpath_mappings", null));

        // SIGHUP re-reads the configured maps file (one mapping); SIGTERM drains and exits 0.
        daemon.Signal("HUP");
        WaitFor(() => Stats(daemon).GetProperty("table").GetProperty("mappings").GetInt64() == 1, "SIGHUP reload", daemon);
        Assert.Equal(0, daemon.Stop(TimeSpan.FromSeconds(30)));
        Assert.False(File.Exists(_dir.File("control.sock")), "the daemon removes its socket");
    }

    [Fact]
    public void An_invalid_configuration_exits_2_with_its_json_path_before_anything_starts()
    {
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, """
            { "control": "unix:CONTROL",
              "ports": { "u0": { "type": "afpacket", "interface": "lo", "peer": "not-a-mac" }, "s0": { "type": "sink" } },
              "pairs": [ { "user": "u0", "secure": "s0" } ] }
            """.Replace("CONTROL", _dir.File("c.sock"), StringComparison.Ordinal));
        ProcessResult result = FastpathProcess.Run("run", "--config", config);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"fastpath: {config}: ports.u0.peer: not a MAC address ('not-a-mac')", result.StandardError.Trim());
        Assert.False(File.Exists(_dir.File("c.sock")));
    }

    [Fact]
    public void Client_commands_without_a_daemon_fail_with_the_endpoint()
    {
        ProcessResult result = FastpathProcess.Run("stats", "--control", "unix:" + _dir.File("none.sock"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no daemon at unix:" + _dir.File("none.sock"), result.StandardError);
    }

    private static (bool Ok, string Output) Ping(NetnsLab lab, string ns, int count, string interval = "0.2")
    {
        ProcessResult result = lab.TryExec(ns, TimeSpan.FromSeconds(60), "ping", "-q", "-n", "-c", count.ToString(CultureInfo.InvariantCulture),
            "-i", interval, "-W", "2", SecureHostV4);
        return (result.ExitCode == 0 && result.StandardOutput.Contains(" 0% packet loss", StringComparison.Ordinal), result.StandardOutput + result.StandardError);
    }

    private static JsonElement Stats(DaemonProcess daemon)
    {
        ProcessResult result = daemon.Cli("stats", "--json").EnsureSuccess();
        return JsonDocument.Parse(result.StandardOutput).RootElement;
    }

    private static long NoMapping(DaemonProcess daemon) => Stats(daemon).GetProperty("drops").GetProperty("no-mapping").GetInt64();

    /// <summary>Stats once two reads 300 ms apart show the same worker totals (frames still in flight have landed).</summary>
    private static JsonElement QuietStats(DaemonProcess daemon)
    {
        JsonElement previous = Stats(daemon);
        for (int i = 0; i < 50; i++)
        {
            Thread.Sleep(300);
            JsonElement now = Stats(daemon);
            if (now.GetProperty("workers").GetRawText() == previous.GetProperty("workers").GetRawText())
            {
                return now;
            }

            previous = now;
        }

        throw new TimeoutException("traffic did not settle");
    }

    private static void WaitFor(Func<bool> condition, string what, DaemonProcess daemon)
    {
        for (int i = 0; i < 100; i++)
        {
            if (condition())
            {
                return;
            }

            Thread.Sleep(200);
        }

        throw new TimeoutException($"{what} did not happen:\n{daemon.Log}");
    }

    private static long LinkRxPackets(NetnsLab lab, string ns, string link)
    {
        using JsonDocument document = JsonDocument.Parse(lab.Exec(ns, "ip", "-s", "-j", "link", "show", "dev", link).StandardOutput);
        return document.RootElement[0].GetProperty("stats64").GetProperty("rx").GetProperty("packets").GetInt64();
    }

    private static string Curl(int port) =>
        ProcessRunner.Run("curl", "-sf", $"http://127.0.0.1:{port}/metrics").EnsureSuccess().StandardOutput;

    private static long Metric(string exposition, string name, string? labels)
    {
        string prefix = labels is null ? name + " " : $"{name}{{{labels}}} ";
        foreach (string line in exposition.Split('\n'))
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return long.Parse(line[prefix.Length..], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException($"no sample {prefix.Trim()} in:\n{exposition}");
    }

    /// <summary>The lab's one live mapping plus 999,999 others in 10.0.0.0/8 → 100.64.0.0/10-style space.</summary>
    private static void WriteBigMaps(string path)
    {
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        writer.Write("{\"mappings\":[\n");
        writer.Write($"{{\"tenant\":0,\"user\":\"{UserV4}\",\"secure\":\"{SecureOfUserV4}\"}}");
        for (int i = 1; i < ImportSize; i++)
        {
            int a = (i >> 16) & 0xFF, b = (i >> 8) & 0xFF, c = i & 0xFF;
            writer.Write(string.Create(CultureInfo.InvariantCulture, $",\n{{\"tenant\":{i % 4000},\"user\":\"10.{a}.{b}.{c}\",\"secure\":\"100.{a}.{b}.{c}\"}}"));
        }

        writer.Write("\n]}\n");
    }

}
