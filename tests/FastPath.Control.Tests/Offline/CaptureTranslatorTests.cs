using FastPath.Control.Maps;
using FastPath.Control.Offline;
using FastPath.Dataplane;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Rewrite;
using FastPath.Testing;

namespace FastPath.Control.Tests.Offline;

/// <summary>
/// Config → send → verify: scapy builds what arrives on each side and, independently, what the ARCHITECTURE.md
/// contract says must leave (checksums recomputed in full); the translator's output must equal it byte for byte,
/// and tshark must find every checksum good.
/// </summary>
public sealed class CaptureTranslatorTests : IDisposable
{
    private const string Maps = """
        { "mappings": [
          { "tenant": 100, "user": "10.1.0.5", "secure": "198.18.0.5" },
          { "tenant": 100, "user": "10.1.0.6", "secure": "198.18.0.6" },
          { "tenant": 0, "user": "10.2.0.7", "secure": "198.18.2.7" },
          { "tenant": 100, "user": "fd00::5", "secure": "2001:db8::5" },
          { "tenant": 100, "user": "fd00::6", "secure": "2001:db8::6" },
          { "tenant": 0, "user": "fd00:1::7", "secure": "2001:db8:1::7" } ] }
        """;

    private static readonly string[] s_checksumOptions = ["ip.check_checksum:TRUE", "udp.check_checksum:TRUE", "tcp.check_checksum:TRUE"];

    private readonly TempDirectory _dir = new();
    private readonly MappingEntry[] _maps = MapsFile.Parse(System.Text.Encoding.UTF8.GetBytes(Maps), "maps.json");

    public CaptureTranslatorTests()
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Offline", "translate_cases.py");
        ProcessRunner.Run(Scapy.Python, [script, _dir.Path], TimeSpan.FromMinutes(2)).EnsureSuccess();
    }

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("user", TranslationDirection.UserToSecure)]
    [InlineData("secure", TranslationDirection.SecureToUser)]
    public void Replaying_through_a_worker_thread_equals_offline_translation(string side, TranslationDirection direction)
    {
        // The one pipeline builder, with pcap ports at both ends (what a daemon's "pcap" ports are): the capture is
        // the arriving side's input, the other side writes. Its egress MACs are the plan's, offline keeps the input's.
        byte[] mac = [0x02, 0, 0, 0, 0, 0x0a];
        byte[] peer = [0x02, 0, 0, 0, 0, 0x0b];
        string offline = _dir.File($"{side}-offline.pcap");
        string replayed = _dir.File($"{side}-replayed.pcap");
        TranslationCounts counts = CaptureTranslator.Run(_maps, direction, _dir.File($"{side}-in.pcap"), offline);
        WorkerCounters worker;
        using (var table = MapsPublisher.Build(_maps))
        {
            var arriving = new PortPlan("in", (_, _) => new PcapPort("in", _dir.File($"{side}-in.pcap"), null), PerWorker: false, mac, peer);
            var leaving = new PortPlan("out", (_, _) => new PcapPort("out", null, replayed), PerWorker: false, mac, peer);
            using RunningPipeline pipeline = new PipelineBuilder(table)
                .AddPair(direction == TranslationDirection.UserToSecure ? arriving : leaving, direction == TranslationDirection.UserToSecure ? leaving : arriving)
                .Build();
            pipeline.Start();
            var deadline = System.Diagnostics.Stopwatch.StartNew();
            while ((pipeline.Counters.Total().RxPackets < counts.Total || Processed(pipeline.Counters.Total()) < counts.Total) && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                Thread.Sleep(5);
            }

            Assert.Null(pipeline.Stop(TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(5)));
            worker = pipeline.Counters.Total();
        }

        Assert.Equal(counts.Total, worker.RxPackets);
        Assert.Equal(counts[DropReason.None], worker.TxPackets);
        Assert.Equal(counts[DropReason.NoMapping], Counters.Dropped(worker, DropReason.NoMapping));
        List<byte[]> a = ReadAll(offline);
        List<byte[]> b = ReadAll(replayed);
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal([.. peer, .. mac], b[i][..12]);
            Assert.Equal(a[i][12..], b[i][12..]);
        }
    }

    private static long Processed(in WorkerCounters c)
    {
        long done = c.TxPackets;
        foreach (DropReason reason in DropReasons.All)
        {
            done += Counters.Dropped(c, reason);
        }

        return done;
    }

    [Fact]
    public void A_pcapng_input_gives_a_pcapng_output_with_the_same_packets()
    {
        string pcapng = _dir.File("user-in.pcapng");
        Tshark.Convert(_dir.File("user-in.pcap"), pcapng, "pcapng");
        string fromPcap = _dir.File("a.pcap");
        string fromPcapng = _dir.File("b.pcapng");
        CaptureTranslator.Run(_maps, TranslationDirection.UserToSecure, _dir.File("user-in.pcap"), fromPcap);
        CaptureTranslator.Run(_maps, TranslationDirection.UserToSecure, pcapng, fromPcapng);

        Assert.Equal("pcapng", Tshark.FileType(fromPcapng));
        List<byte[]> a = ReadAll(fromPcap);
        List<byte[]> b = ReadAll(fromPcapng);
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i], b[i]);
        }
    }

    [Fact]
    public void Translating_back_restores_the_user_side_addresses()
    {
        string secure = _dir.File("round-secure.pcap");
        string back = _dir.File("round-back.pcap");
        CaptureTranslator.Run(_maps, TranslationDirection.UserToSecure, _dir.File("user-in.pcap"), secure);
        CaptureTranslator.Run(_maps, TranslationDirection.SecureToUser, secure, back);

        // Only packets whose destination was mapped come back (the others' destinations are external addresses).
        IReadOnlyList<string[]> back2 = Tshark.Fields(back, ["ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "vlan.id", "udp.srcport"]);
        Assert.Contains(back2, row => row[1] == "10.1.0.6");
        Assert.Contains(back2, row => row[3] == "fd00::6");
        Assert.All(back2, row =>
        {
            Assert.True((row[0], row[1]) is ("10.1.0.5", "10.1.0.6") || (row[2], row[3]) is ("fd00::5", "fd00::6"), string.Join('|', row));
            Assert.Equal("100", row[4]);
        });
    }

    [Fact]
    public void The_json_report_has_every_verdict_and_the_totals()
    {
        TranslationCounts counts = CaptureTranslator.Run(_maps, TranslationDirection.UserToSecure, _dir.File("user-in.pcap"), _dir.File("r.pcap"));
        var text = new StringWriter();
        CaptureTranslator.Report(counts, json: true, text);
        using var document = System.Text.Json.JsonDocument.Parse(text.ToString());
        var root = document.RootElement;
        Assert.Equal(counts.Total, root.GetProperty("packets").GetInt64());
        Assert.Equal(counts[DropReason.None], root.GetProperty("written").GetInt64());
        Assert.Equal(1, root.GetProperty("verdicts").GetProperty("not-ip").GetInt64());
        Assert.Equal(DropReasons.Count, root.GetProperty("verdicts").EnumerateObject().Count());
    }

    private static void AssertCountsMatchVerdicts(TranslationCounts counts, string verdictsFile)
    {
        string[] verdicts = File.ReadAllLines(verdictsFile).Where(line => line.Length > 0).ToArray();
        Assert.Equal(verdicts.Length, counts.Total);
        foreach (IGrouping<string, string> group in verdicts.GroupBy(v => v))
        {
            Assert.True(DropReasons.TryParse(group.Key, out DropReason reason), group.Key);
            Assert.Equal(group.Count(), counts[reason]);
        }
    }

    private static List<byte[]> ReadAll(string path)
    {
        var packets = new List<byte[]>();
        using CaptureReader reader = CaptureReader.Open(path);
        while (reader.TryReadNext(out CapturedPacket packet))
        {
            packets.Add(packet.Data.ToArray());
        }

        return packets;
    }
}
