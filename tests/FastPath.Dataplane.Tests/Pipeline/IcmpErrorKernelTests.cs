using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Pipeline;

/// <summary>
/// Config → send → verify through real kernels (<see cref="TranslationLab"/>): a connected UDP socket sends to a closed
/// port of a host on the other side of FastPath; that host's kernel answers with ICMP / ICMPv6 port unreachable, and the
/// sender's kernel turns it into ECONNREFUSED only if the packet quoted inside the error names the sender's own socket —
/// its own addresses, not the translated ones, with checksums it accepts. Before the quote was translated the error
/// arrived but matched no socket, and recv() timed out (the path-MTU black hole has the same cause).
/// </summary>
public sealed class IcmpErrorKernelTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    // Up to three tries: the first datagram may meet a neighbour or ICMP rate-limit state we do not control.
    private const string Client = """
        import socket, sys
        family = socket.AF_INET6 if ':' in sys.argv[1] else socket.AF_INET
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.connect((sys.argv[1], 9))
        for attempt in range(3):
            s.send(b'is anyone there?')
            try:
                s.recv(100)
                print('answered')
                break
            except ConnectionRefusedError:
                print('refused')
                break
            except socket.timeout:
                print('timeout')
        """;

    [Fact]
    public void A_user_socket_learns_that_a_secure_port_is_closed()
    {
        using TranslationLab lab = TranslationLab.Create();
        AssertRefused(lab, lab.UserHost, TranslationLab.SecureHostV4);
        AssertRefused(lab, lab.UserHost, TranslationLab.SecureHostV6);
    }

    [Fact]
    public void A_secure_socket_learns_that_a_user_port_is_closed()
    {
        using TranslationLab lab = TranslationLab.Create();
        AssertRefused(lab, lab.SecureHost, TranslationLab.SecureOfUserV4);
        AssertRefused(lab, lab.SecureHost, TranslationLab.SecureOfUserV6);
    }

    private static void AssertRefused(TranslationLab lab, string host, string target)
    {
        ProcessResult run = lab.Lab.TryExec(host, s_bound, Scapy.Python, "-c", Client, target);
        Assert.True(run.ExitCode == 0, run.StandardError);
        Assert.True(run.StandardOutput.TrimEnd().EndsWith("refused", StringComparison.Ordinal),
            $"{host} → {target}: {run.StandardOutput.Replace('\n', ' ')}");
    }
}
