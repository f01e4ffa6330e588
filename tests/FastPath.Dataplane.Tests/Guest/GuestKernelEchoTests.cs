using FastPath.Dataplane.Guest;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Tests.Pipeline;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Guest;

/// <summary>
/// Config → send → verify through real kernels: the secure host (its own network namespace, veth to an AF_PACKET
/// port) sends UDP datagrams to the guest's secure address 198.19.1.9; FastPath translates them to the guest's user
/// address, moves them to the echo guest, builds the replies' headers itself and sends them back. The secure host's
/// kernel delivers a reply to the socket only if its IPv4 and UDP checksums are right and it comes from 198.19.1.9:7.
/// </summary>
public sealed class GuestKernelEchoTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_udp_client_in_the_secure_host_gets_its_datagrams_echoed_by_the_guest()
    {
        using var dir = new TempDirectory();
        using TranslationLab lab = TranslationLab.Create(guestSocket: dir.File("guest.sock"));
        using GuestClient client = GuestClient.Connect(dir.File("guest.sock"));
        using var stop = new CancellationTokenSource();
        long echoed = -1;
        var echo = new Thread(() => echoed = GuestEcho.Run(client, stop.Token)) { IsBackground = true };
        echo.Start();
        GuestLab.WaitFor(() => lab.Guest!.Connected, "the worker to adopt the guest");

        const string udpClient = """
            import socket, sys
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(('198.19.0.1', 40000)); s.settimeout(3)
            ok = 0
            for i in range(20):
                payload = ('guest echo %d ' % i).encode() * (i + 1)
                s.sendto(payload, (sys.argv[1], 7))
                data, peer = s.recvfrom(65536)
                assert data == payload, (data, payload)
                assert peer == (sys.argv[1], 7), peer
                ok += 1
            print('echoed', ok)
            """;
        ProcessResult result = lab.Lab.TryExec(lab.SecureHost, s_bound, Scapy.Python, "-c", udpClient, TranslationLab.SecureOfGuestV4);
        stop.Cancel();
        echo.Join();

        Assert.True(result.ExitCode == 0, result.StandardOutput + result.StandardError);
        Assert.Contains("echoed 20", result.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(20, echoed);
        WorkerCounters counters = lab.Counters.Read(0);
        Assert.Equal(0, Counters.Dropped(counters, DropReason.BadDescriptor) + Counters.Dropped(counters, DropReason.UnknownFlow));
    }

    /// <summary>
    /// Config → send → verify for the time-of-check/time-of-use hole: a guest process sends UDP payloads while another
    /// of its threads rewrites all its payload memory without pause. The data plane copies each payload once into its
    /// own frame and checksums that copy, so every datagram captured on the secure host's link (dumpcap) has a UDP
    /// checksum that tshark finds right over the bytes that actually left.
    /// </summary>
    [Fact]
    public void A_guest_that_rewrites_its_payloads_while_sending_cannot_make_a_frame_leave_with_a_wrong_checksum()
    {
        const int Datagrams = 3000;
        using var dir = new TempDirectory();
        using TranslationLab lab = TranslationLab.Create(guestSocket: dir.File("guest.sock"));
        string capture = dir.File("secure.pcapng");
        var dumpcap = new System.Diagnostics.ProcessStartInfo("ip", ["netns", "exec", lab.SecureHost, "dumpcap", "-q", "-i", lab.SecureLink,
            "-f", "udp and src port 7", "-a", "duration:120", "-w", capture]) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var capturing = System.Diagnostics.Process.Start(dumpcap)!;
        try
        {
            // dumpcap names the interface on stderr once the capture runs.
            string? line;
            while ((line = capturing.StandardError.ReadLine()) is not null && !line.Contains("Capturing on", StringComparison.Ordinal))
            {
            }

            string probe = Path.Combine(AppContext.BaseDirectory, "FastPath.Dataplane.Probe");
            ProcessResult guest = ProcessRunner.Run(probe, ["guest-toctou", dir.File("guest.sock"), TranslationLab.SecureHostV4, "9", $"{Datagrams}"], TimeSpan.FromSeconds(120));
            Assert.True(guest.ExitCode == 0, guest.StandardOutput + guest.StandardError);
            Thread.Sleep(1000);
        }
        finally
        {
            ProcessRunner.Run("kill", "-INT", capturing.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            capturing.WaitForExit(30_000);
        }

        IReadOnlyList<string[]> rows = Tshark.Fields(capture, ["ip.src", "udp.checksum.status", "udp.length"], ["udp.check_checksum:TRUE"]);
        Assert.True(rows.Count >= Datagrams / 2, $"only {rows.Count} of {Datagrams} datagrams captured");
        int bad = rows.Count(r => r[1] != "1");
        Assert.True(bad == 0, $"{bad} of {rows.Count} datagrams left with a UDP checksum that does not match their bytes");
        Assert.All(rows, r => Assert.Equal(TranslationLab.SecureOfGuestV4, r[0]));
    }
}
