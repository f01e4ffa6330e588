using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Ports;

/// <summary>
/// One veth pair: <see cref="RootLink"/> in the root namespace (where the port under test opens) and
/// <see cref="PeerLink"/> in a test namespace where scapy and tshark play the other host. Removed on dispose.
/// </summary>
internal sealed class VethLab : IDisposable
{
    /// <summary>Source MAC of the frames the peer's scapy sends: tells them apart from stray kernel frames.</summary>
    public static readonly byte[] PeerMac = [0x02, 0x00, 0x5c, 0xa9, 0x00, 0x01];

    /// <summary>Source MAC of the frames the port under test sends.</summary>
    public static readonly byte[] PortMac = [0x02, 0x00, 0x5c, 0xa9, 0x00, 0x02];

    public const string PeerMacText = "02:00:5c:a9:00:01";
    public const string PortMacText = "02:00:5c:a9:00:02";

    private VethLab(NetnsLab lab, string ns, string root, string peer)
    {
        Lab = lab;
        Namespace = ns;
        RootLink = root;
        PeerLink = peer;
    }

    public NetnsLab Lab { get; }

    public string Namespace { get; }

    public string RootLink { get; }

    public string PeerLink { get; }

    /// <summary>Builds the lab or skips the test when the machine forbids namespaces.</summary>
    public static VethLab Create()
    {
        NetnsLab lab = NetnsLab.CreateOrSkip();
        try
        {
            string ns = lab.AddNamespace("fpport");
            (string root, string peer) = lab.AddVeth("fpr", null, "fpn", ns);
            return new VethLab(lab, ns, root, peer);
        }
        catch (Exception)
        {
            lab.Dispose();
            throw;
        }
    }

    /// <summary>Runs a scapy script inside the namespace (after <c>from scapy.all import *</c>) and returns its stdout.</summary>
    public string Scapy(string script)
    {
        string program = "import logging\nlogging.getLogger('scapy.runtime').setLevel(logging.ERROR)\nfrom scapy.all import *\n" + script;
        return Lab.Exec(Namespace, FastPath.Testing.Scapy.Python, "-c", program).StandardOutput;
    }

    /// <summary>Runs a scapy script in the background, so the port under test reads while scapy sends.</summary>
    public Task<string> ScapyInBackground(string script) => Task.Run(() => Scapy(script));

    /// <summary>Sends <paramref name="count"/> copies of one small UDP frame from the peer end, in one burst (scapy):
    /// more than a small RX ring holds, when nobody reads.</summary>
    public void Flood(int count) => Scapy($"""
        f = Ether(src='02:00:5c:a9:00:01', dst='02:00:5c:a9:00:02')/IP(src='198.18.5.1', dst='198.18.5.2')/UDP(sport=1, dport=9)
        sendp([f] * {count}, iface='{PeerLink}', verbose=0)
        """);

    /// <summary>Scapy frames from <see cref="PeerMac"/> to <see cref="PortMac"/>: IPv4, IPv6, 802.1Q with priority, and QinQ (802.1ad outer tag).</summary>
    public const string MixedFramesScript = """
        s, d = '02:00:5c:a9:00:01', '02:00:5c:a9:00:02'
        frames = [Ether(src=s, dst=d)/IP(src='198.18.1.1', dst='198.18.1.2')/UDP(sport=1000 + i, dport=9)/Raw(bytes([i]) * (10 + 7 * i)) for i in range(4)]
        frames += [Ether(src=s, dst=d)/IPv6(src='2001:db8:1::1', dst='2001:db8:1::2', hlim=7)/UDP(sport=2000, dport=9)/Raw(b'six')]
        frames += [Ether(src=s, dst=d)/Dot1Q(vlan=100, prio=3)/IP(src='198.18.1.1', dst='198.18.1.2')/UDP(sport=3000, dport=9)/Raw(b'tenant 100')]
        frames += [Ether(src=s, dst=d)/Dot1AD(vlan=200)/Dot1Q(vlan=300)/IPv6(src='2001:db8:1::1', dst='2001:db8:1::2')/UDP(sport=4000, dport=9)]
        frames += [Ether(src=s, dst=d)/IP(src='198.18.1.1', dst='198.18.1.2')/UDP(sport=5000, dport=9)/Raw(bytes(range(256)) * 5)]
        """;

    public void Dispose() => Lab.Dispose();
}
