using System.Text.Json;
using FastPath.Control.Offline;
using FastPath.Testing;

namespace FastPath.Control.Tests.Offline;

/// <summary>
/// Config → send → verify: scapy builds a capture of valid packets of every layer combination plus one packet per
/// malformation; <c>fastpath inspect --json</c> (<see cref="CaptureInspector"/>) must agree with tshark on addresses,
/// ports, protocol, VLAN and on which packets are malformed.
/// </summary>
public sealed class InspectOracleTests : IDisposable
{
    // Random valid packets (seeded), then one packet per way to be malformed, then valid packets the data plane refuses.
    private const string BuildCapture = """
        random.seed(4)
        def E(): return Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')
        def tag(vlan): return [Dot1Q(vlan=vlan)] if vlan else []
        def stack(layers):
            p = layers[0]
            for l in layers[1:]: p = p/l
            return p
        ports = lambda: random.randint(40000, 40999)
        pk = []
        for i in range(120):
            vlan = random.choice([0, 0, random.randint(1, 4094)])
            v6 = random.random() < 0.5
            kind = random.choice(['udp', 'tcp', 'icmp', 'other'])
            if v6:
                ip = IPv6(src='2001:db8::%x' % random.randint(1, 0xffff), dst='2001:db8:1::%x' % random.randint(1, 0xffff), hlim=random.randint(2, 255))
                ext = random.choice([[], [], [IPv6ExtHdrHopByHop()], [IPv6ExtHdrHopByHop(), IPv6ExtHdrDestOpt()], [IPv6ExtHdrRouting()]])
            else:
                ip = IP(src='198.18.%d.%d' % (random.randint(0, 255), random.randint(1, 254)), dst='198.19.%d.%d' % (random.randint(0, 255), random.randint(1, 254)), ttl=random.randint(2, 255))
                if random.random() < 0.2: ip.options = [IPOption_RR(routers=['198.18.0.9'])]
                ext = []
            if kind == 'udp': l4 = [UDP(sport=ports(), dport=ports())]
            elif kind == 'tcp': l4 = [TCP(sport=ports(), dport=ports(), flags='A', options=random.choice([[], [('MSS', 1460)], [('NOP', None), ('NOP', None), ('Timestamp', (1, 2))]]))]
            elif kind == 'icmp': l4 = [ICMPv6EchoRequest() if v6 else ICMP()]
            else: l4 = [GRE()]
            pk.append(stack([E()] + tag(vlan) + [ip] + ext + l4 + [Raw(bytes(random.randrange(256) for _ in range(random.randint(0, 40))))]))
        A = dict(src='198.18.0.1', dst='198.19.0.2')
        B = dict(src='2001:db8::1', dst='2001:db8::2')
        pk.append(E()/IP(chksum=0x1234, **A)/UDP(sport=40000, dport=40001))
        pk.append(E()/Dot1Q(vlan=7)/IP(ihl=4, **A)/UDP(sport=40000, dport=40001))
        pk.append(E()/IP(len=300, **A)/UDP(sport=40000, dport=40001))
        pk.append(E()/IP(len=19, **A)/UDP(sport=40000, dport=40001))
        pk.append(E()/IP(version=6, **A)/UDP(sport=40000, dport=40001))
        pk.append(E()/IPv6(plen=300, **B)/UDP(sport=40000, dport=40001))
        pk.append(E()/IP(**A)/TCP(sport=40000, dport=40001, dataofs=4))
        pk.append(E()/IP(**A)/UDP(sport=40000, dport=40001, len=100))
        pk.append(E()/IPv6(**B)/UDP(sport=40000, dport=40001, len=4))
        pk.append(Ether(raw(E()/IP(**A)/UDP(sport=40000, dport=40001)/Raw(b'x' * 30))[:30]))
        pk.append(Ether(raw(E()/Dot1Q(vlan=9)/IPv6(**B)/TCP(sport=40000, dport=40001))[:50]))
        pk.append(Ether(raw(E()/IP(**A)/TCP(sport=40000, dport=40001))[:44]))
        pk.append(E()/ARP())
        pk.append(E()/Dot1Q(vlan=5)/ARP())
        pk.append(E()/Dot1AD(vlan=5)/Dot1Q(vlan=100)/IP(**A)/UDP(sport=40000, dport=40001))
        pk.append(E()/IPv6(**B)/(IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt())/UDP(sport=40000, dport=40001))
        pk.append(E()/IP(flags='MF', **A)/TCP(sport=40000, dport=40001))
        pk.append(E()/IP(frag=100, **A)/Raw(b'q' * 24))
        pk.append(E()/IPv6(**B)/IPv6ExtHdrFragment(offset=0, m=1)/UDP(sport=40000, dport=40001)/Raw(b'f' * 16))
        pk.append(E()/IPv6(**B)/IPv6ExtHdrHopByHop()/IPv6ExtHdrFragment(offset=100, nh=17)/Raw(b'z' * 16))
        wrpcap(OUT, pk)
        """;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Inspect_json_agrees_with_tshark_on_addresses_ports_protocol_vlan_and_malformed_packets()
    {
        string path = _dir.File("oracle.pcap");
        Scapy.Run($"OUT = '{path}'\n" + BuildCapture);

        var output = new StringWriter();
        long count = CaptureInspector.Run(path, json: true, output);
        JsonElement[] ours = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        IReadOnlyList<string[]> theirs = Tshark.Fields(path, TsharkPacket.Fields, ["ip.check_checksum:TRUE"]);
        Assert.Equal(count, ours.Length);
        Assert.Equal(ours.Length, theirs.Count);

        var failures = new List<string>();
        var verdicts = new HashSet<string>();
        for (int i = 0; i < ours.Length; i++)
        {
            var t = new TsharkPacket(theirs[i]);
            JsonElement o = ours[i];
            string verdict = o.GetProperty("verdict").GetString()!;
            verdicts.Add(verdict);
            Check(failures, i, "malformed", t.Malformed, verdict is "truncated" or "bad-version" or "bad-ihl" or "bad-length" or "bad-checksum");
            bool ok = verdict == "ok";

            if (verdict != "unsupported")
            {
                Check(failures, i, "vlan", t.First("vlan.id"), Text(o, "vlan"));
            }

            string? family = Text(o, "family");
            if (family is not null)
            {
                string prefix = family == "ipv4" ? "ip" : "ipv6";
                if (t.First(prefix + ".src") is not null || ok)
                {
                    Check(failures, i, "src", t.First(prefix + ".src"), Text(o, "src"));
                    Check(failures, i, "dst", t.First(prefix + ".dst"), Text(o, "dst"));
                }
            }
            else if (ok)
            {
                failures.Add($"packet {i}: ok without an IP family");
            }

            if (ok && family is not null)
            {
                Check(failures, i, "proto", t.Protocol(family), Text(o, "proto"));
            }

            // tshark reads ports out of packets it calls malformed (the parser stops at the first fault) and does not
            // dissect the transport of a first fragment without reassembly (the parser does): ports are compared whenever
            // both give them, and required of every whole UDP/TCP packet the parser accepts.
            string? sport = t.First("udp.srcport") ?? t.First("tcp.srcport");
            bool whole = o.GetProperty("fragment").GetString() == "none";
            if ((Text(o, "sport") is not null && (sport is not null || whole)) || (ok && whole && Text(o, "proto") is "6" or "17"))
            {
                Check(failures, i, "sport", sport, Text(o, "sport"));
                Check(failures, i, "dport", t.First("udp.dstport") ?? t.First("tcp.dstport"), Text(o, "dport"));
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
        foreach (string expected in new[] { "ok", "truncated", "not-ip", "bad-version", "bad-ihl", "bad-length", "bad-checksum", "ext-chain-too-long", "unsupported" })
        {
            Assert.Contains(expected, verdicts);
        }
    }

    private static string? Text(JsonElement o, string name)
    {
        JsonElement value = o.GetProperty(name);
        return value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.Number => value.GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => value.GetString(),
        };
    }

    private static void Check(List<string> failures, int index, string field, object? tshark, object? ours)
    {
        if (!Equals(tshark, ours))
        {
            failures.Add($"packet {index}: {field}: tshark {tshark ?? "(none)"}, fastpath {ours ?? "(none)"}");
        }
    }
}
