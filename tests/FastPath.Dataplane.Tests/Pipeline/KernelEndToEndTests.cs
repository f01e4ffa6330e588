using FastPath.Dataplane.Pipeline;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Pipeline;

/// <summary>
/// Config → send → verify through real kernels: the user host pings and opens TCP connections to the secure host
/// across FastPath (AF_PACKET on veth, or a TAP device on the user side). Replies only arrive if both directions are
/// translated with checksums the receiving kernel accepts; a tshark capture on the secure host checks the contract
/// field by field (translated source, no VLAN, TTL decremented, egress MACs, checksums good).
/// </summary>
public sealed class KernelEndToEndTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Ping_crosses_fastpath_both_ways_in_ipv4_and_ipv6(bool tap)
    {
        using TranslationLab lab = TranslationLab.Create(tap);
        using var dir = new TempDirectory();
        using TsharkCapture capture = TsharkCapture.Start(lab.SecureHost, lab.SecureLink, dir.File("secure.pcap"), 6, s_bound,
            $"src host {TranslationLab.SecureOfUserV4} or src host {TranslationLab.SecureOfUserV6}");

        ProcessResult v4 = lab.Lab.TryExec(lab.UserHost, s_bound, "ping", "-c", "3", "-i", "0.2", "-W", "3", TranslationLab.SecureHostV4);
        ProcessResult v6 = lab.Lab.TryExec(lab.UserHost, s_bound, "ping", "-6", "-c", "3", "-i", "0.2", "-W", "3", TranslationLab.SecureHostV6);
        Assert.True(v4.ExitCode == 0, "IPv4 ping: " + v4.StandardOutput + v4.StandardError);
        Assert.True(v6.ExitCode == 0, "IPv6 ping: " + v6.StandardOutput + v6.StandardError);

        string file = capture.Finish(s_bound);
        IReadOnlyList<string[]> rows = Tshark.Fields(file,
            ["eth.src", "eth.dst", "vlan.id", "ip.src", "ip.dst", "ip.ttl", "ipv6.src", "ipv6.dst", "ipv6.hlim", "ip.checksum.status", "icmp.checksum.status", "icmpv6.checksum.status"],
            ["ip.check_checksum:TRUE"]);
        Assert.Equal(6, rows.Count);
        string secureHostMac = lab.Lab.Mac(lab.SecureHost, lab.SecureLink);
        foreach (string[] row in rows)
        {
            string line = string.Join('|', row);
            Assert.Equal(TranslationLab.SecurePortMac, row[0]);
            Assert.Equal(secureHostMac, row[1]);
            Assert.Equal(string.Empty, row[2]);
            if (row[3].Length > 0)
            {
                Assert.True((row[3], row[4], row[5], row[9], row[10]) == (TranslationLab.SecureOfUserV4, TranslationLab.SecureHostV4, "63", "1", "1"), line);
            }
            else
            {
                Assert.True((row[6], row[7], row[8], row[11]) == (TranslationLab.SecureOfUserV6, TranslationLab.SecureHostV6, "63", "1"), line);
            }
        }
    }

    [Fact]
    public void Tagged_frames_lose_their_tag_towards_the_secure_side_and_regain_it_on_the_way_back()
    {
        using TranslationLab lab = TranslationLab.Create();
        using var dir = new TempDirectory();
        string userHostMac = lab.Lab.Mac(lab.UserHost, lab.UserLink);
        string secureHostMac = lab.Lab.Mac(lab.SecureHost, lab.SecureLink);
        using TsharkCapture atSecure = TsharkCapture.Start(lab.SecureHost, lab.SecureLink, dir.File("secure.pcap"), 3, s_bound,
            $"src host {TranslationLab.SecureOfTaggedUserV4}");
        using TsharkCapture atUser = TsharkCapture.Start(lab.UserHost, lab.UserLink, dir.File("user.pcap"), 3, s_bound,
            $"vlan and udp and dst host {TranslationLab.TaggedUserV4}");

        lab.Lab.Exec(lab.UserHost, Scapy.Python, "-c",
            "from scapy.all import *\n" +
            $"sendp([Ether(src='{userHostMac}', dst='{TranslationLab.UserPortMac}')/Dot1Q(vlan=100)/IP(src='{TranslationLab.TaggedUserV4}', dst='{TranslationLab.SecureHostV4}', ttl=9)" +
            $"/UDP(sport=4000 + i, dport=9)/Raw(b'up' * 20) for i in range(3)], iface='{lab.UserLink}', verbose=False)");
        lab.Lab.Exec(lab.SecureHost, Scapy.Python, "-c",
            "from scapy.all import *\n" +
            $"sendp([Ether(src='{secureHostMac}', dst='{TranslationLab.SecurePortMac}')/IP(src='{TranslationLab.SecureHostV4}', dst='{TranslationLab.SecureOfTaggedUserV4}', ttl=7)" +
            $"/UDP(sport=9, dport=4000 + i)/Raw(b'down' * 20) for i in range(3)], iface='{lab.SecureLink}', verbose=False)");

        string[] fields = ["eth.src", "eth.dst", "vlan.id", "ip.src", "ip.dst", "ip.ttl", "ip.checksum.status", "udp.checksum.status"];
        string[] options = ["ip.check_checksum:TRUE", "udp.check_checksum:TRUE"];
        IReadOnlyList<string[]> up = Tshark.Fields(atSecure.Finish(s_bound), fields, options);
        IReadOnlyList<string[]> down = Tshark.Fields(atUser.Finish(s_bound), fields, options);
        Assert.Equal(3, up.Count);
        Assert.All(up, row => Assert.Equal([TranslationLab.SecurePortMac, secureHostMac, "", TranslationLab.SecureOfTaggedUserV4, TranslationLab.SecureHostV4, "8", "1", "1"], row));
        Assert.Equal(3, down.Count);
        Assert.All(down, row => Assert.Equal([TranslationLab.UserPortMac, userHostMac, "100", TranslationLab.SecureHostV4, TranslationLab.TaggedUserV4, "6", "1", "1"], row));
    }

    [Fact]
    public async Task Tcp_connections_cross_fastpath_in_ipv4_and_ipv6()
    {
        using TranslationLab lab = TranslationLab.Create();
        const string server = """
            import socket, sys, threading
            def serve(family, address):
                s = socket.socket(family, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((address, 7007)); s.listen(1); s.settimeout(20)
                c, peer = s.accept(); c.settimeout(10)
                data = b''
                while len(data) < 4600:
                    chunk = c.recv(65536)
                    if not chunk: break
                    data += chunk
                c.sendall(peer[0].encode() + b' ' + data.upper()); c.close()
            threads = [threading.Thread(target=serve, args=a) for a in ((socket.AF_INET, '198.19.0.1'), (socket.AF_INET6, '2001:db8:2::1'))]
            [t.start() for t in threads]; print('ready', flush=True); [t.join() for t in threads]
            """;
        Task<ProcessResult> serverRun = Task.Run(() => lab.Lab.TryExec(lab.SecureHost, s_bound, Scapy.Python, "-c", server), TestContext.Current.CancellationToken);
        await Task.Delay(1000, TestContext.Current.CancellationToken);

        const string client = """
            import socket, sys
            family = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
            s = socket.create_connection((sys.argv[1], 7007), timeout=10)
            s.sendall(b'hello through fastpath ' * 200)
            reply = b''
            while len(reply) < 60:
                chunk = s.recv(65536)
                if not chunk: break
                reply += chunk
            print(reply.decode()[:60])
            """;
        ProcessResult v4 = lab.Lab.TryExec(lab.UserHost, s_bound, Scapy.Python, "-c", client, TranslationLab.SecureHostV4);
        ProcessResult v6 = lab.Lab.TryExec(lab.UserHost, s_bound, Scapy.Python, "-c", client, TranslationLab.SecureHostV6);
        ProcessResult served = await serverRun.WaitAsync(s_bound, TestContext.Current.CancellationToken);
        Assert.True(served.ExitCode == 0, "server: " + served.StandardError);

        // The server saw the translated (secure) address of the user host, and the reply came back through FastPath.
        Assert.True(v4.ExitCode == 0, v4.StandardError);
        Assert.StartsWith($"{TranslationLab.SecureOfUserV4} HELLO THROUGH FASTPATH", v4.StandardOutput);
        Assert.True(v6.ExitCode == 0, v6.StandardError);
        Assert.StartsWith($"{TranslationLab.SecureOfUserV6} HELLO THROUGH FASTPATH", v6.StandardOutput);
        WorkerCounters counters = lab.Counters.Read(0);
        Assert.True(counters.TxPackets >= 10, $"only {counters.TxPackets} frames forwarded");
    }
}
