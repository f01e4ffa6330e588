using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using FastPath.Testing;

namespace FastPath.Cli.Tests.Daemon;

/// <summary>
/// Real TCP through <c>fastpath run</c>: config (a user host and a secure host in their own namespaces, two afpacket
/// ports on the root ends of their veths, one IPv4 and one IPv6 1:1 mapping, every veth with the kernel's default
/// offloads, so the hosts' TCP stacks hand the wire 64 KiB TSO super-frames) → send (a 10 MB HTTP download each way
/// and each family with python3 -m http.server and curl; iperf3; ping with jumbo frames) → verify (the bytes with cmp,
/// the address the server saw, retransmits the receiver did not see twice, and every frame the data plane could not carry named by a drop
/// reason in stats).
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class DaemonBulkTrafficTests : IDisposable
{
    private const string UserV4 = "198.18.1.5";
    private const string SecureOfUserV4 = "198.19.1.5";
    private const string SecureHostV4 = "198.19.0.1";
    private const string UserV6 = "2001:db8:1::5";
    private const string SecureOfUserV6 = "2001:db8:2::5";
    private const string SecureHostV6 = "2001:db8:2::1";
    private const string UserPortMac = "02:00:fa:57:01:01";
    private const string SecurePortMac = "02:00:fa:57:02:01";
    private const int FileSize = 10 << 20;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_10_MB_download_crosses_intact_each_way_over_both_families_and_the_secure_host_sees_the_secure_address()
    {
        using var lab = new Topology(_dir, userMtu: null, secureMtu: null);
        string file = _dir.File("www/data.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, RandomBytes(FileSize));

        (string Server, string ServerAddress, string Client, string ClientSeen)[] runs =
        [
            (lab.Secure, SecureHostV4, lab.User, SecureOfUserV4),
            (lab.Secure, SecureHostV6, lab.User, SecureOfUserV6),
            (lab.User, UserV4, lab.Secure, SecureHostV4),
            (lab.User, UserV6, lab.Secure, SecureHostV6),
        ];
        int port = 18080;
        foreach ((string server, string serverAddress, string client, string clientSeen) in runs)
        {
            // The secure host serves on its own address; the user host on its own too, reached as its secure address.
            string target = server == lab.Secure ? serverAddress : (serverAddress == UserV4 ? SecureOfUserV4 : SecureOfUserV6);
            string url = target.Contains(':', StringComparison.Ordinal) ? $"http://[{target}]:{port}/data.bin" : $"http://{target}:{port}/data.bin";
            string output = _dir.File($"got-{port}.bin");
            using (var http = Background.Start(lab.Lab, server, Scapy.Python, "-m", "http.server", port.ToString(CultureInfo.InvariantCulture), "--bind", serverAddress, "--directory", Path.GetDirectoryName(file)!))
            {
                lab.WaitForListener(server, port, http);
                ProcessResult curl = lab.Lab.TryExec(client, TimeSpan.FromSeconds(90), "curl", "-sS", "--max-time", "60", "-o", output, url);
                string why = $"{url} from {client}: {curl.StandardError}\n{lab.Stats()}\n{lab.Daemon.Log}";
                Assert.True(curl.ExitCode == 0, why);
                Assert.True(ProcessRunner.Run("cmp", file, output).ExitCode == 0, "bytes differ: " + why);
                http.Stop();
                Assert.True(http.Output.Contains(clientSeen + " - - [", StringComparison.Ordinal), $"the server saw: {http.Output}");
            }

            port++;
        }

        lab.AssertNoSilentLoss();
    }

    [Fact]
    public void Iperf3_for_3_seconds_completes_and_every_retransmit_but_a_handful_reached_the_receiver_twice()
    {
        using var lab = new Topology(_dir, userMtu: null, secureMtu: null);
        foreach (bool reverse in new[] { false, true })
        {
            using var server = Background.Start(lab.Lab, lab.Secure, "iperf3", "-s", "-1", "-B", SecureHostV4, "-p", "15201");
            lab.WaitForListener(lab.Secure, 15201, server);
            var args = new List<string> { "iperf3", "-c", SecureHostV4, "-p", "15201", "-t", "3", "-J", "--connect-timeout", "5000" };
            if (reverse)
            {
                args.Add("-R");
            }

            string sender = reverse ? lab.Secure : lab.User;
            (long retransmitted, long duplicates) before = lab.Retransmits(sender);
            ProcessResult client = lab.Lab.TryExec(lab.User, TimeSpan.FromSeconds(60), [.. args]);
            (long retransmitted, long duplicates) after = lab.Retransmits(sender);
            Assert.True(client.ExitCode == 0, client.StandardOutput + client.StandardError + lab.Stats() + lab.Daemon.Log);
            using JsonDocument result = JsonDocument.Parse(client.StandardOutput);
            JsonElement end = result.RootElement.GetProperty("end");
            long received = end.GetProperty("sum_received").GetProperty("bytes").GetInt64();
            long retransmits = end.GetProperty("sum_sent").GetProperty("retransmits").GetInt64();
            Assert.True(received > 1 << 20, $"only {received} bytes arrived");

            // A retransmit the receiver reports as a duplicate (D-SACK) was not lost: the original arrived too, late. The
            // hosts' veths reorder under load (each CPU's backlog delivers on its own), and with the frame ring's
            // sub-millisecond RTT TCP's reordering window is tens of microseconds, so kernel forwarding on this topology
            // retransmits spuriously too (bench/RESULTS.md, issue 22). Lost segments are retransmits with no duplicate:
            // "a handful" is 10, plus 1 per 10,000 full-size segments carried.
            long retransmittedSegments = after.retransmitted - before.retransmitted;
            long lost = retransmittedSegments - (after.duplicates - before.duplicates);
            long allowed = 10 + (received / 1448 / 10_000);
            Assert.True(lost <= allowed, $"{lost} retransmits not seen twice by the receiver ({retransmittedSegments} retransmitted, iperf3: {retransmits}), {allowed} allowed (reverse: {reverse})\n{lab.Stats()}\n{lab.LinkDrops()}");
        }

        lab.AssertNoSilentLoss();
    }

    [Fact]
    public void A_jumbo_ping_crosses_at_mtu_9000_without_fragmentation()
    {
        using var lab = new Topology(_dir, userMtu: 9000, secureMtu: 9000);
        foreach (string destination in new[] { SecureHostV4, SecureHostV6 })
        {
            ProcessResult ping = lab.Lab.TryExec(lab.User, TimeSpan.FromSeconds(30), "ping", "-n", "-q", "-M", "do", "-s", "8000", "-c", "3", "-i", "0.2", "-W", "2", destination);
            Assert.True(ping.ExitCode == 0 && ping.StandardOutput.Contains(" 0% packet loss", StringComparison.Ordinal), ping.StandardOutput + ping.StandardError + lab.Stats());
        }
    }

    [Fact]
    public void A_frame_longer_than_the_egress_mtu_is_dropped_and_counted_as_too_big()
    {
        using var lab = new Topology(_dir, userMtu: 9000, secureMtu: 1500);
        long before = lab.Drops("too-big");
        ProcessResult ping = lab.Lab.TryExec(lab.User, TimeSpan.FromSeconds(30), "ping", "-n", "-q", "-M", "do", "-s", "8000", "-c", "3", "-i", "0.2", "-W", "1", SecureHostV4);
        Assert.NotEqual(0, ping.ExitCode);
        lab.WaitFor(() => lab.Drops("too-big") >= before + 3, "three too-big drops");

        // A small one still crosses: the port drops what it cannot carry, nothing else.
        ProcessResult small = lab.Lab.TryExec(lab.User, TimeSpan.FromSeconds(30), "ping", "-n", "-q", "-M", "do", "-s", "1400", "-c", "2", "-i", "0.2", "-W", "2", SecureHostV4);
        Assert.True(small.ExitCode == 0, small.StandardOutput + lab.Stats());
    }

    private static byte[] RandomBytes(int size)
    {
        byte[] bytes = new byte[size];
        new Random(22).NextBytes(bytes);
        return bytes;
    }

    /// <summary>The two hosts, their veths (default offloads), the daemon with one afpacket port on each root end.</summary>
    private sealed class Topology : IDisposable
    {
        private readonly string _userRoot = string.Empty;
        private readonly string _userLink = string.Empty;
        private readonly string _secureRoot = string.Empty;
        private readonly string _secureLink = string.Empty;

        public Topology(TempDirectory dir, int? userMtu, int? secureMtu)
        {
            Lab = NetnsLab.CreateOrSkip();
            try
            {
                User = Lab.AddNamespace("fpbu");
                Secure = Lab.AddNamespace("fpbs");
                (string userRoot, string userLink) = Lab.AddVeth("fpbdu", null, "fpbhu", User);
                (string secureRoot, string secureLink) = Lab.AddVeth("fpbds", null, "fpbhs", Secure);
                (_userRoot, _userLink, _secureRoot, _secureLink) = (userRoot, userLink, secureRoot, secureLink);
                ProcessRunner.Run("sysctl", "-qw", $"net.ipv6.conf.{userRoot}.disable_ipv6=1").EnsureSuccess();
                ProcessRunner.Run("sysctl", "-qw", $"net.ipv6.conf.{secureRoot}.disable_ipv6=1").EnsureSuccess();
                SetMtu(User, userLink, userMtu);
                SetMtu(Secure, secureLink, secureMtu);

                Lab.AddAddress(User, userLink, UserV4 + "/24");
                Lab.AddAddress(User, userLink, UserV6 + "/64");
                Lab.AddRoute(User, "198.19.0.0/16", userLink);
                Lab.AddRoute(User, "2001:db8:2::/64", userLink);
                Lab.AddNeighbour(User, userLink, SecureHostV4, UserPortMac);
                Lab.AddNeighbour(User, userLink, SecureHostV6, UserPortMac);
                Lab.AddAddress(Secure, secureLink, SecureHostV4 + "/16");
                Lab.AddAddress(Secure, secureLink, SecureHostV6 + "/64");
                Lab.AddNeighbour(Secure, secureLink, SecureOfUserV4, SecurePortMac);
                Lab.AddNeighbour(Secure, secureLink, SecureOfUserV6, SecurePortMac);

                File.WriteAllText(dir.File("maps.json"), $$"""
                    { "mappings": [
                        { "tenant": 0, "user": "{{UserV4}}", "secure": "{{SecureOfUserV4}}" },
                        { "tenant": 0, "user": "{{UserV6}}", "secure": "{{SecureOfUserV6}}" } ] }
                    """);
                string config = dir.File("fastpath.json");
                File.WriteAllText(config, $$"""
                    {
                      "workers": 1,
                      "maps": "maps.json",
                      "ports": {
                        "u0": { "type": "afpacket", "interface": "{{userRoot}}", "mac": "{{UserPortMac}}", "peer": "{{Lab.Mac(User, userLink)}}"{{Mtu(userMtu)}} },
                        "s0": { "type": "afpacket", "interface": "{{secureRoot}}", "mac": "{{SecurePortMac}}", "peer": "{{Lab.Mac(Secure, secureLink)}}"{{Mtu(secureMtu)}} }
                      },
                      "pairs": [ { "user": "u0", "secure": "s0" } ]
                    }
                    """);
                Daemon = DaemonProcess.Start(config, "unix:" + dir.File("control.sock"));
            }
            catch (Exception)
            {
                Lab.Dispose();
                throw;
            }
        }

        public NetnsLab Lab { get; }

        public string User { get; }

        public string Secure { get; }

        public DaemonProcess Daemon { get; }

        public string Stats() => "\nstats: " + Daemon.Cli("stats", "--json").StandardOutput;

        public long Drops(string reason)
        {
            using JsonDocument document = JsonDocument.Parse(Daemon.Cli("stats", "--json").EnsureSuccess().StandardOutput);
            return document.RootElement.GetProperty("drops").GetProperty(reason).GetInt64();
        }

        /// <summary>Bulk TCP must not lose frames to the data plane: no frame was too big, no ring overflowed.</summary>
        public void AssertNoSilentLoss()
        {
            using JsonDocument document = JsonDocument.Parse(Daemon.Cli("stats", "--json").EnsureSuccess().StandardOutput);
            JsonElement root = document.RootElement;
            Assert.True(root.GetProperty("drops").GetProperty("too-big").GetInt64() == 0, root.GetRawText());
        }

        /// <summary>Every veth end's drop counters: a loss outside the data plane (a host's backlog) shows here.</summary>
        /// <summary>The TCP segments <paramref name="ns"/> retransmitted, and how many of those the receiver reported as duplicates (D-SACK), since the namespace was made.</summary>
        public (long Retransmitted, long Duplicates) Retransmits(string ns)
        {
            string output = Lab.Exec(ns, "nstat", "-asz", "TcpRetransSegs", "TcpExtTCPDSACKRecvSegs").StandardOutput;
            long Value(string name) => output.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f.Length >= 2 && f[0] == name).Select(f => long.Parse(f[1], CultureInfo.InvariantCulture)).FirstOrDefault();
            return (Value("TcpRetransSegs"), Value("TcpExtTCPDSACKRecvSegs"));
        }

        public string LinkDrops()
        {
            var text = new StringBuilder("link drops:");
            foreach ((string? ns, string link) in new[] { ((string?)null, _userRoot), (null, _secureRoot), (User, _userLink), (Secure, _secureLink) })
            {
                string json = ns is null
                    ? ProcessRunner.Run("ip", "-s", "-j", "link", "show", "dev", link).StandardOutput
                    : Lab.Exec(ns, "ip", "-s", "-j", "link", "show", "dev", link).StandardOutput;
                using JsonDocument document = JsonDocument.Parse(json);
                JsonElement stats = document.RootElement[0].GetProperty("stats64");
                text.Append(CultureInfo.InvariantCulture, $" {link} rx_dropped={stats.GetProperty("rx").GetProperty("dropped").GetInt64()} tx_dropped={stats.GetProperty("tx").GetProperty("dropped").GetInt64()}");
            }

            return text.ToString();
        }

        public void WaitForListener(string ns, int port, Background process)
        {
            for (int i = 0; i < 100; i++)
            {
                string listening = Lab.Exec(ns, "ss", "-Hltn", $"sport = :{port}").StandardOutput;
                if (listening.Length > 0)
                {
                    return;
                }

                Thread.Sleep(100);
            }

            throw new TimeoutException($"nothing listens on port {port} in {ns}: {process.Output}");
        }

        public void WaitFor(Func<bool> condition, string what)
        {
            for (int i = 0; i < 50; i++)
            {
                if (condition())
                {
                    return;
                }

                Thread.Sleep(200);
            }

            throw new TimeoutException($"{what} did not happen:{Stats()}\n{Daemon.Log}");
        }

        public void Dispose()
        {
            Daemon?.Dispose();
            Lab.Dispose();
        }

        private static string Mtu(int? mtu) => mtu is int value ? $", \"mtu\": {value}" : string.Empty;

        private void SetMtu(string ns, string link, int? mtu)
        {
            if (mtu is int value)
            {
                Lab.Exec(ns, "ip", "link", "set", link, "mtu", value.ToString(CultureInfo.InvariantCulture));
            }
        }
    }

    /// <summary>A server run in a namespace for one test, stopped by its own PID (SIGTERM, then SIGKILL).</summary>
    private sealed class Background : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        private Background(Process process)
        {
            _process = process;
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        /// <summary><c>ip netns exec</c> execs the command itself, so the PID is the server's.</summary>
        public static Background Start(NetnsLab lab, string ns, string program, params string[] arguments)
        {
            _ = lab;
            var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string argument in (string[])["netns", "exec", ns, program, .. arguments])
            {
                start.ArgumentList.Add(argument);
            }

            return new Background(Process.Start(start)!);
        }

        public void Stop()
        {
            if (!_process.HasExited)
            {
                ProcessRunner.Run("kill", "-TERM", _process.Id.ToString(CultureInfo.InvariantCulture));
                if (!_process.WaitForExit(TimeSpan.FromSeconds(5)))
                {
                    _process.Kill();
                }
            }

            _process.WaitForExit();
        }

        public void Dispose()
        {
            Stop();
            _process.Dispose();
        }

        private void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
