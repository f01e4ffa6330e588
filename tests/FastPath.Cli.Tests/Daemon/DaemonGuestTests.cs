using System.Diagnostics;
using System.Text.Json;
using FastPath.Testing;

namespace FastPath.Cli.Tests.Daemon;

/// <summary>
/// <c>fastpath run</c> with a guest port (ARCHITECTURE.md's config example): a kernel host in the secure namespace
/// sends UDP datagrams to the guest's secure address, the daemon moves them to a real <c>fastpath guest echo</c>
/// process (payload pages only), and the echoes come back to the host's socket through the daemon's user→secure
/// translation. The host's socket is an ordinary connected UDP socket: it accepts an echo only if address and
/// port were translated and every checksum is right.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class DaemonGuestTests : IDisposable
{
    private const string GuestUser = "198.18.1.5";
    private const string GuestSecure = "198.19.1.5";
    private const string SecureHost = "198.19.0.1";
    private const string SecurePortMac = "02:00:fa:57:02:01";
    private const int Datagrams = 40;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_guest_port_in_the_daemon_echoes_udp_for_a_host_in_the_secure_namespace()
    {
        using NetnsLab lab = NetnsLab.CreateOrSkip();
        string secure = lab.AddNamespace("fpgsec");
        (string secureRoot, string secureLink) = lab.AddVeth("fpgs", null, "fpgh", secure);
        ProcessRunner.Run("sysctl", "-qw", $"net.ipv6.conf.{secureRoot}.disable_ipv6=1").EnsureSuccess();
        lab.Exec(secure, "sysctl", "-qw", $"net.ipv6.conf.{secureLink}.disable_ipv6=1");
        lab.AddAddress(secure, secureLink, SecureHost + "/16");
        lab.AddNeighbour(secure, secureLink, GuestSecure, SecurePortMac);

        string socket = _dir.File("guest.sock");
        File.WriteAllText(_dir.File("maps.json"), $$"""{ "mappings": [ { "tenant": 0, "user": "{{GuestUser}}", "secure": "{{GuestSecure}}" } ] }""");
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, $$"""
            {
              "workers": 1,
              "maps": "maps.json",
              "ports": {
                "u0": { "type": "sink" },
                "s0": { "type": "afpacket", "interface": "{{secureRoot}}", "mac": "{{SecurePortMac}}", "peer": "{{lab.Mac(secure, secureLink)}}" },
                "g0": { "type": "guest", "socket": "guest.sock", "tenant": 0, "address": "{{GuestUser}}", "max_frames": 256 }
              },
              "pairs": [ { "user": "u0", "secure": "s0", "guests": [ "g0" ] } ]
            }
            """);

        using DaemonProcess daemon = DaemonProcess.Start(config, "unix:" + _dir.File("control.sock"));
        Assert.True(File.Exists(socket), "the daemon listens on the guest socket\n" + daemon.Log);
        using Process echo = Process.Start(new ProcessStartInfo(FastpathProcess.Executable, ["guest", "echo", "--socket", socket])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            // The host's datagrams, each with its own payload; the echo must return each one, unchanged, to the same socket.
            string script = $$"""
                import socket, sys
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("{{SecureHost}}", 40000))
                s.connect(("{{GuestSecure}}", 7))
                s.settimeout(0.5)
                got = 0
                for i in range({{Datagrams}}):
                    payload = b"fastpath guest %d " % i + bytes(range(i))
                    for attempt in range(20):
                        s.send(payload)
                        try:
                            reply = s.recv(2048)
                        except socket.timeout:
                            continue
                        if reply != payload:
                            sys.exit("datagram %d came back changed: %r" % (i, reply))
                        got += 1
                        break
                print("echoed", got)
                """;
            ProcessResult host = lab.TryExec(secure, TimeSpan.FromSeconds(120), "/usr/bin/python3", "-c", script);
            Assert.True(host.ExitCode == 0, host.StandardOutput + host.StandardError + daemon.Log);
            Assert.Contains($"echoed {Datagrams}", host.StandardOutput, StringComparison.Ordinal);

            JsonElement stats = JsonDocument.Parse(daemon.Cli("stats", "--json").EnsureSuccess().StandardOutput).RootElement;
            JsonElement guest = stats.GetProperty("ports").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "g0");
            Assert.Equal("user", guest.GetProperty("side").GetString());
            Assert.True(guest.GetProperty("tx_packets").GetInt64() >= Datagrams, guest.GetRawText());
            Assert.True(guest.GetProperty("rx_packets").GetInt64() >= Datagrams, guest.GetRawText());
            Assert.Equal(0, stats.GetProperty("ports").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "u0").GetProperty("tx_packets").GetInt64());

            ProcessResult noPair = daemon.Cli("vtpm", "status");
            Assert.Equal(1, noPair.ExitCode);
            Assert.Equal("fastpath: vtpm status: this daemon serves no vTPM", noPair.StandardError.Trim());
        }
        finally
        {
            if (!echo.HasExited)
            {
                echo.Kill();
            }

            echo.WaitForExit(10_000);
        }

        Assert.Equal(0, daemon.Stop(TimeSpan.FromSeconds(30)));
        Assert.False(File.Exists(socket), "the daemon removes the guest socket");
    }

    [Fact]
    public void A_file_at_the_guest_socket_path_is_refused_and_left_alone()
    {
        string socket = _dir.File("guest.sock");
        File.WriteAllText(socket, "someone's file");
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, """
            { "control": "unix:CONTROL",
              "ports": { "u0": { "type": "sink" }, "s0": { "type": "sink" },
                         "g0": { "type": "guest", "socket": "guest.sock", "tenant": 0, "address": "198.18.1.5" } },
              "pairs": [ { "user": "u0", "secure": "s0", "guests": [ "g0" ] } ] }
            """.Replace("CONTROL", _dir.File("c.sock"), StringComparison.Ordinal));
        ProcessResult result = FastpathProcess.Run("run", "--config", config);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"fastpath: {config}: ports.g0.socket: '{socket}' exists and is not a socket (it would not be replaced)", result.StandardError.Trim());
        Assert.Equal("someone's file", File.ReadAllText(socket));
    }
}
