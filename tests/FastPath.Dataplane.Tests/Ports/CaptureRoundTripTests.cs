using FastPath.Dataplane.Ports;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Ports;

/// <summary>
/// Config → send → verify with the real tools: scapy and editcap write captures in every supported
/// flavour, we read them and write them back in the input's format, and tshark must see identical
/// packet bytes, lengths and timestamps, and the same file type.
/// </summary>
public sealed class CaptureRoundTripTests : IDisposable
{
    // Varied frames: IPv4/UDP, VLAN + IPv6/TCP, ARP, odd lengths (pcapng padding), a 9000-byte jumbo;
    // timestamps with nanosecond digits so that resolution mistakes show.
    private const string MakePackets = """
        from decimal import Decimal
        m = dict(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        pkts = [
            Ether(**m)/IP(src="198.18.0.1", dst="198.18.0.2")/UDP(sport=1234, dport=53)/Raw(b"a" * 18),
            Ether(**m)/Dot1Q(vlan=100)/IPv6(src="2001:db8::1", dst="2001:db8::2")/TCP(sport=80, dport=4000, flags="S"),
            Ether(**m)/ARP(pdst="198.18.0.9"),
            Ether(**m)/IP(src="198.18.0.3", dst="198.18.0.4", options=[IPOption_NOP()]*4)/UDP()/Raw(b"b" * 1),
            Ether(**m)/IP(src="198.18.0.5", dst="198.18.0.6")/UDP()/Raw(bytes(range(256)) * 35),
            Ether(**m)/IPv6(src="2001:db8::5", dst="2001:db8::6")/ICMPv6EchoRequest()/Raw(b"c" * 3),
        ]
        for i, p in enumerate(pkts):
            p.time = Decimal("1700000000.123456789") + Decimal(i) * Decimal("1.000000111")
        """;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Flavours => ["pcap", "pcap-be", "nsecpcap", "nsecpcap-be", "pcapng-scapy", "pcapng-editcap", "pcapng-editcap-ns", "pcap-snapped", "pcapng-snapped"];

    [Theory]
    [MemberData(nameof(Flavours))]
    public void Captures_written_by_the_real_tools_round_trip_byte_for_byte(string flavour)
    {
        string original = MakeCapture(flavour);
        string ours = _dir.File("ours-" + flavour);

        var expectedBytes = ScapyPacketHex(original);
        var readBytes = new List<string>();
        using (CaptureReader reader = CaptureReader.Open(original))
        using (CaptureWriter writer = CaptureWriter.Create(ours, reader.Format))
        {
            while (reader.TryReadNext(out CapturedPacket packet))
            {
                readBytes.Add(Convert.ToHexStringLower(packet.Data));
                writer.Write(packet.Data, packet.TimestampNanoseconds, packet.OriginalLength);
            }
        }

        Assert.Equal(expectedBytes, readBytes);
        Assert.Equal(Tshark.FileType(original), Tshark.FileType(ours));
        Assert.Equal(Tshark.HexDump(original), Tshark.HexDump(ours));
        string[] fields = ["frame.time_epoch", "frame.len", "frame.cap_len"];
        Assert.Equal(Tshark.Fields(original, fields), Tshark.Fields(ours, fields));
        Assert.Equal(6, readBytes.Count);
    }

    [Fact]
    public void Nanosecond_digits_survive_a_nanosecond_round_trip()
    {
        string original = MakeCapture("nsecpcap");
        var times = Tshark.Fields(original, ["frame.time_epoch"]).Select(r => r[0]).ToList();
        Assert.Equal("1700000000.123456789", times[0]);
        Assert.Equal("1700000001.123456900", times[1]);
    }

    private string MakeCapture(string flavour)
    {
        string us = _dir.File("scapy-us.pcap");
        string ns = _dir.File("scapy-ns.pcap");
        string path = _dir.File(flavour);
        string writer = flavour switch
        {
            "pcap-be" => $"w = PcapWriter('{path}', endianness='>')",
            "nsecpcap-be" => $"w = PcapWriter('{path}', endianness='>', nano=True)",
            "pcapng-scapy" => $"w = PcapNgWriter('{path}')",
            _ => null!,
        };
        if (writer is not null)
        {
            Scapy.Run(MakePackets + "\n" + writer + "\nfor p in pkts: w.write(p)\nw.close()\n");
            return path;
        }

        Scapy.Run(MakePackets + $"\nwrpcap('{us}', pkts)\nw = PcapWriter('{ns}', nano=True)\nfor p in pkts: w.write(p)\nw.close()\n");
        switch (flavour)
        {
            case "pcap":
                return us;
            case "nsecpcap":
                return ns;
            case "pcapng-editcap":
                Tshark.Convert(us, path, "pcapng");
                return path;
            case "pcapng-editcap-ns":
                Tshark.Convert(ns, path, "pcapng");
                return path;
            case "pcap-snapped":
                ProcessRunner.Run("editcap", "-s", "80", us, path).EnsureSuccess();
                return path;
            case "pcapng-snapped":
                ProcessRunner.Run("editcap", "-F", "pcapng", "-s", "80", ns, path).EnsureSuccess();
                return path;
            default:
                throw new ArgumentException(flavour);
        }
    }

    private static List<string> ScapyPacketHex(string path) =>
        Scapy.Run($"for p in rdpcap('{path}'): print(bytes(p).hex())")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
}
