using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using FastPath.Testing;

namespace FastPath.Cli.Tests.Daemon;

/// <summary>
/// Seed 000's promise, tried as a hostile guest would: <c>fastpath run</c> with two afpacket ports between a user host
/// and a secure host, and two guest ports of different tenants. Config → traffic marked per destination (a user host
/// in both directions, guest B, guest A itself) → a separate process on guest A's socket maps every memfd the
/// handshake gave it, whole, and scans all of it over and over while traffic flows. It must find its own payloads
/// (the scan works) and nothing else: no other flow's payload, no byte of guest B's, no MAC of any header.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class DaemonGuestIsolationTests : IDisposable
{
    private const string UserHost = "198.18.2.7";
    private const string SecureOfUserHost = "198.19.2.7";
    private const string GuestA = "198.18.1.5";
    private const string SecureOfGuestA = "198.19.1.5";
    private const string GuestB = "10.1.0.6";
    private const string SecureOfGuestB = "198.19.1.6";
    private const string SecureHost = "198.19.0.1";
    private const string UserPortMac = "02:00:fa:57:01:01";
    private const string SecurePortMac = "02:00:fa:57:02:01";
    private const int ScanSeconds = 6;

    // Maps every memfd of the handshake (SCM_RIGHTS, as GuestSocket sends them) whole and read-write, then scans
    // snapshots of all of it for each mark until the time is up; prints how many scans found each one.
    private const string HostileGuest = """
        import mmap, os, socket, sys, time
        path, seconds, marks = sys.argv[1], float(sys.argv[2]), [bytes.fromhex(h) for h in sys.argv[3:]]
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(path)
        msg, fds, flags, addr = socket.recv_fds(s, 64, 16)
        if not fds:
            sys.exit("no memfds in the handshake")
        maps = [mmap.mmap(fd, os.fstat(fd).st_size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE) for fd in fds]
        print("mapped %d memfds, %d bytes" % (len(maps), sum(len(m) for m in maps)), flush=True)
        found = [0] * len(marks)
        scans = 0
        end = time.time() + seconds
        while time.time() < end:
            for m in maps:
                data = m[:]
                for i, mark in enumerate(marks):
                    if data.find(mark) >= 0:
                        found[i] += 1
            scans += 1
        print("scans %d found %s" % (scans, " ".join(str(f) for f in found)), flush=True)
        """;

    // Sends UDP datagrams carrying MARK to each DESTINATION:PORT, about 1000 a second each, for SECONDS.
    private const string Sender = """
        import socket, sys, time
        seconds, mark = float(sys.argv[1]), bytes.fromhex(sys.argv[2])
        targets = [(t.split(":")[0], int(t.split(":")[1])) for t in sys.argv[3:]]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        end = time.time() + seconds
        sent = 0
        while time.time() < end:
            for t in targets:
                s.sendto(b"payload " + mark + b" %d" % sent, t)
                sent += 1
            time.sleep(0.001)
        print("sent", sent)
        """;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_hostile_guest_that_maps_and_scans_everything_it_was_given_finds_only_its_own_payloads()
    {
        using NetnsLab lab = NetnsLab.CreateOrSkip();
        string user = lab.AddNamespace("fpiuser");
        string secure = lab.AddNamespace("fpisec");
        (string userRoot, string userLink) = lab.AddVeth("fpiu", null, "fpihu", user);
        (string secureRoot, string secureLink) = lab.AddVeth("fpis", null, "fpihs", secure);
        foreach (string link in new[] { userRoot, secureRoot })
        {
            ProcessRunner.Run("sysctl", "-qw", $"net.ipv6.conf.{link}.disable_ipv6=1").EnsureSuccess();
        }

        lab.Exec(user, "sysctl", "-qw", $"net.ipv6.conf.{userLink}.disable_ipv6=1");
        lab.Exec(secure, "sysctl", "-qw", $"net.ipv6.conf.{secureLink}.disable_ipv6=1");
        lab.AddAddress(user, userLink, UserHost + "/24");
        lab.AddNeighbour(user, userLink, "198.18.2.1", UserPortMac);
        lab.AddRoute(user, "198.19.0.0/16", userLink, "198.18.2.1");
        lab.AddAddress(secure, secureLink, SecureHost + "/16");
        foreach (string address in new[] { SecureOfUserHost, SecureOfGuestA, SecureOfGuestB })
        {
            lab.AddNeighbour(secure, secureLink, address, SecurePortMac);
        }

        File.WriteAllText(_dir.File("maps.json"), $$"""
            { "mappings": [
                { "tenant": 0, "user": "{{UserHost}}", "secure": "{{SecureOfUserHost}}" },
                { "tenant": 0, "user": "{{GuestA}}", "secure": "{{SecureOfGuestA}}" },
                { "tenant": 100, "user": "{{GuestB}}", "secure": "{{SecureOfGuestB}}" } ] }
            """);
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, $$"""
            {
              "workers": 1,
              "maps": "maps.json",
              "ports": {
                "u0": { "type": "afpacket", "interface": "{{userRoot}}", "mac": "{{UserPortMac}}", "peer": "{{lab.Mac(user, userLink)}}" },
                "s0": { "type": "afpacket", "interface": "{{secureRoot}}", "mac": "{{SecurePortMac}}", "peer": "{{lab.Mac(secure, secureLink)}}" },
                "ga": { "type": "guest", "socket": "a.sock", "tenant": 0, "address": "{{GuestA}}", "max_frames": 256 },
                "gb": { "type": "guest", "socket": "b.sock", "tenant": 100, "address": "{{GuestB}}", "max_frames": 256 }
              },
              "pairs": [ { "user": "u0", "secure": "s0", "guests": [ "ga", "gb" ] } ]
            }
            """);

        string other = Mark("FP-OTHER-"), forB = Mark("FP-GUEST-B-"), forA = Mark("FP-GUEST-A-");
        string[] headerMarks = [MacHex(lab.Mac(user, userLink)), MacHex(lab.Mac(secure, secureLink)), MacHex(UserPortMac), MacHex(SecurePortMac)];
        using DaemonProcess daemon = DaemonProcess.Start(config, "unix:" + _dir.File("control.sock"));
        using Process guestB = Start(FastpathProcess.Executable, "guest", "echo", "--socket", _dir.File("b.sock"));
        using Process scanner = Start("/usr/bin/python3", ["-c", HostileGuest, _dir.File("a.sock"), ScanSeconds.ToString(CultureInfo.InvariantCulture), forA, other, forB, .. headerMarks]);
        string seconds = (ScanSeconds - 1).ToString(CultureInfo.InvariantCulture);
        using Process fromSecure = Start("ip", ["netns", "exec", secure, "/usr/bin/python3", "-c", Sender, seconds, other, SecureOfUserHost + ":9"]);
        using Process fromUser = Start("ip", ["netns", "exec", user, "/usr/bin/python3", "-c", Sender, seconds, other, SecureHost + ":9"]);
        using Process toB = Start("ip", ["netns", "exec", secure, "/usr/bin/python3", "-c", Sender, seconds, forB, SecureOfGuestB + ":7"]);
        using Process toA = Start("ip", ["netns", "exec", secure, "/usr/bin/python3", "-c", Sender, seconds, forA, SecureOfGuestA + ":7"]);
        try
        {
            foreach (Process sender in new[] { fromSecure, fromUser, toB, toA })
            {
                Assert.True(sender.WaitForExit(TimeSpan.FromSeconds(60)), "a sender did not finish");
                Assert.True(sender.ExitCode == 0, sender.StandardError.ReadToEnd());
            }

            Assert.True(scanner.WaitForExit(TimeSpan.FromSeconds(60)), "the hostile guest did not finish its scans");
            string report = scanner.StandardOutput.ReadToEnd() + scanner.StandardError.ReadToEnd();
            Assert.True(scanner.ExitCode == 0, report + daemon.Log);
            string[] counts = report.Split("found ")[1].Trim().Split(' ');
            string stats = daemon.Cli("stats", "--json").StandardOutput;

            // The scan works: the guest's own payloads are in its memory.
            Assert.True(long.Parse(counts[0], CultureInfo.InvariantCulture) > 0, $"the guest never saw its own payloads: {report}\n{stats}");

            // Nothing else is: other traffic went through the workers' private frames, guest B's payloads into B's memory.
            Assert.True(counts[1] == "0", $"another flow's payload is in guest A's memory: {report}");
            Assert.True(counts[2] == "0", $"guest B's payload is in guest A's memory: {report}");
            for (int i = 3; i < counts.Length; i++)
            {
                Assert.True(counts[i] == "0", $"a header (MAC {headerMarks[i - 3]}) is in guest A's memory: {report}");
            }

            // Guest B and the user host really got their traffic while A scanned (so the marks were in flight).
            Assert.True(PortTx(stats, "gb") > 0 && PortTx(stats, "u0") > 0 && PortTx(stats, "s0") > 0, stats);
        }
        finally
        {
            foreach (Process process in new[] { guestB, scanner, fromSecure, fromUser, toB, toA })
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }

                process.WaitForExit(10_000);
            }
        }

        Assert.Equal(0, daemon.Stop(TimeSpan.FromSeconds(30)));
    }

    private static string Mark(string prefix) =>
        Convert.ToHexStringLower(System.Text.Encoding.ASCII.GetBytes(prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))));

    private static string MacHex(string mac) => mac.Replace(":", "", StringComparison.Ordinal);

    private static long PortTx(string statsJson, string port)
    {
        using var stats = System.Text.Json.JsonDocument.Parse(statsJson);
        return stats.RootElement.GetProperty("ports").EnumerateArray()
            .Single(p => p.GetProperty("name").GetString() == port).GetProperty("tx_packets").GetInt64();
    }

    private static Process Start(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }
}
