using System.Diagnostics;
using System.Net;
using FastPath.Dataplane;
using FastPath.Dataplane.Guest;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Rewrite;
using FastPath.Testing;

namespace FastPath.Cli.Tests;

/// <summary>
/// The real <c>fastpath guest</c> processes against a guest port hosted by the test: config (a mapping, a guest port
/// bound to 10.1.0.5 of tenant 100) → run the guest → verify its exit status and, for echo, the packets that come back.
/// </summary>
public sealed class GuestCommandTests
{
    private const int KilledBySigsegv = 128 + 11;

    [Fact]
    public void Probe_header_is_killed_by_SIGSEGV_on_its_first_header_access()
    {
        using var dir = new TempDirectory();
        using var port = new GuestPort("g0", dir.File("guest.sock"), 100, IPAddress.Parse("10.1.0.5"), 128);

        ProcessResult probe = ProcessRunner.Run(FastpathProcess.Executable, ["guest", "probe-header", "--socket", dir.File("guest.sock")], TimeSpan.FromSeconds(60));

        Assert.True(probe.ExitCode == KilledBySigsegv, $"expected SIGSEGV (139), got {probe.ExitCode}\n{probe.StandardOutput}\n{probe.StandardError}");
        Assert.Contains("touching header slot 0", probe.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("read ", probe.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public void Probe_header_without_a_data_plane_fails_with_one_line_naming_the_socket()
    {
        using var dir = new TempDirectory();
        ProcessResult probe = FastpathProcess.Run("guest", "probe-header", "--socket", dir.File("nobody.sock"));
        Assert.Equal(1, probe.ExitCode);
        Assert.Contains("nobody.sock", probe.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public unsafe void Echo_sends_every_udp_payload_back_through_the_worker()
    {
        const int Packets = 50;
        using var dir = new TempDirectory();
        string input = dir.File("secure-in.pcap");
        using (CaptureWriter writer = CaptureWriter.Create(input, new CaptureFormat(CaptureFileKind.Pcap, Nanoseconds: false)))
        {
            for (int i = 0; i < Packets; i++)
            {
                byte[] frame = new byte[UdpFrameBuilder.FrameLength(false, false, 20 + i)];
                UdpFrameBuilder.Write(frame, [2, 0, 0, 0, 2, 2], [2, 0, 0, 0, 2, 1], 0, [198, 18, 1, 9], [198, 18, 0, 5], (ushort)(6000 + i), 7, 20 + i);
                writer.Write(frame, i * 1000L);
            }
        }

        using var table = new MappingTable(16);
        table.Add(MappingEntry.Create(100, IPAddress.Parse("10.1.0.5"), IPAddress.Parse("198.18.0.5")));
        using var pool = new FramePool(512);
        using var counters = new Counters(1);
        using var port = new GuestPort("g0", dir.File("guest.sock"), 100, IPAddress.Parse("10.1.0.5"));
        using var secure = new PcapPort("s0", input, dir.File("secure-out.pcap"));
        var macs = EgressMacs.Create([2, 0, 0, 0, 1, 1], [2, 0, 0, 0, 1, 2]);
        using var echo = Process.Start(new ProcessStartInfo(FastpathProcess.Executable, ["guest", "echo", "--socket", dir.File("guest.sock")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            Assert.StartsWith("echo guest attached", echo.StandardOutput.ReadLine(), StringComparison.Ordinal);

            // The guest binding comes first, so the worker adopts the guest before it reads the capture.
            var worker = new Worker(0, -1,
                [new PortBinding(port, new TranslationStage(table, TranslationDirection.UserToSecure, macs), secure),
                 new PortBinding(secure, new TranslationStage(table, TranslationDirection.SecureToUser, macs, [MappingKey.User(100, IPAddress.Parse("10.1.0.5"))]), new SinkPort("u0"), [port])],
                pool, counters);
            worker.Start();
            DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (secure.Written < Packets && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(10);
            }

            worker.Dispose();
            worker.Join();
            Assert.Equal(Packets, secure.Written);
            Assert.Equal(0, Counters.Dropped(counters.Read(0), DropReason.TxFull));
        }
        finally
        {
            if (!echo.HasExited)
            {
                ProcessRunner.Run("kill", "-TERM", echo.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            Assert.True(echo.WaitForExit(TimeSpan.FromSeconds(20)), "the echo guest did not stop on SIGTERM");
        }

        Assert.Equal(0, echo.ExitCode);
        Assert.Contains($"echoed {Packets} payloads", echo.StandardOutput.ReadToEnd(), StringComparison.Ordinal);
    }
}
