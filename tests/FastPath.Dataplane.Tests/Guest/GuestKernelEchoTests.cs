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
}
