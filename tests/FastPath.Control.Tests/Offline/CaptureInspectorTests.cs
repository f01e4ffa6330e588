using FastPath.Control.Offline;
using FastPath.Dataplane.Ports;
using FastPath.Testing;

namespace FastPath.Control.Tests.Offline;

public sealed class CaptureInspectorTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Every_packet_gets_one_line_and_the_count_is_returned()
    {
        string path = _dir.File("three.pcap");
        using (CaptureWriter writer = CaptureWriter.Create(path, new CaptureFormat(CaptureFileKind.Pcap, true)))
        {
            for (int i = 0; i < 3; i++)
            {
                writer.Write(new byte[60 + i], 1_700_000_000_000_000_001L + i);
            }
        }

        var output = new StringWriter();
        Assert.Equal(3, CaptureInspector.Run(path, json: false, output));
        string[] lines = output.ToString().TrimEnd().Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal("0 1700000000.000000001 len=60 caplen=60 eth not-ip", lines[0]);
        Assert.Equal("2 1700000000.000000003 len=62 caplen=62 eth not-ip", lines[2]);
    }

    [Fact]
    public void A_text_line_names_layers_vlan_endpoints_protocol_and_verdict()
    {
        string path = _dir.File("parsed.pcap");
        Scapy.Run($"""
            E = Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02')
            wrpcap('{path}', [
                E/Dot1Q(vlan=100)/IP(src='10.1.0.5', dst='198.18.0.9')/UDP(sport=40000, dport=53),
                E/IPv6(src='2001:db8::5', dst='2001:db8::9')/TCP(sport=443, dport=51000),
                E/IP(src='10.1.0.5', dst='198.18.0.9', frag=10)/Raw(b'x' * 8),
                E/IP(src='10.1.0.5', dst='198.18.0.9', chksum=1)/ICMP(),
                E/ARP()])
            """);
        var output = new StringWriter();
        CaptureInspector.Run(path, json: false, output);
        string[] lines = output.ToString().TrimEnd().Split('\n').Select(l => l[(l.IndexOf(" caplen=", StringComparison.Ordinal) + 1)..]).ToArray();
        Assert.Equal(
        [
            "caplen=46 eth/vlan/ipv4/udp vlan=100 10.1.0.5:40000 > 198.18.0.9:53 proto=17 ok",
            "caplen=74 eth/ipv6/tcp [2001:db8::5]:443 > [2001:db8::9]:51000 proto=6 ok",
            "caplen=42 eth/ipv4 10.1.0.5 > 198.18.0.9 proto=0 fragment=non-first ok",
            "caplen=42 eth/ipv4 10.1.0.5 > 198.18.0.9 proto=1 bad-checksum",
            "caplen=42 eth not-ip",
        ], lines);
    }

    [Fact]
    public void A_json_line_holds_exactly_the_documented_fields()
    {
        string path = _dir.File("json.pcap");
        Scapy.Run($"wrpcap('{path}', [Ether()/Dot1Q(vlan=7)/IPv6(src='2001:db8::1', dst='2001:db8::2')/IPv6ExtHdrFragment(offset=0, m=1)/UDP(sport=1, dport=2)])");
        var output = new StringWriter();
        CaptureInspector.Run(path, json: true, output);
        Assert.Equal(
            "{\"index\":0,\"vlan\":7,\"family\":\"ipv6\",\"src\":\"2001:db8::1\",\"dst\":\"2001:db8::2\",\"proto\":17,\"sport\":1,\"dport\":2,\"fragment\":\"first\",\"verdict\":\"ok\",",
            output.ToString()[..output.ToString().IndexOf("\"time_ns\"", StringComparison.Ordinal)]);
    }

    [Fact]
    public void Packets_before_a_bad_record_are_printed_and_the_error_names_the_offset()
    {
        string path = _dir.File("bad.pcap");
        using (CaptureWriter writer = CaptureWriter.Create(path, new CaptureFormat(CaptureFileKind.Pcap, false)))
        {
            writer.Write(new byte[60], 0);
        }

        File.AppendAllText(path, "junk");
        var output = new StringWriter();
        var error = Assert.Throws<CaptureFileException>(() => CaptureInspector.Run(path, json: true, output));
        Assert.Equal(24 + 16 + 60, error.Offset);
        Assert.Single(output.ToString().TrimEnd().Split('\n'));
    }
}
