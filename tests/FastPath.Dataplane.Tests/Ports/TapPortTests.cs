using System.Globalization;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Ports;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Ports;

/// <summary>
/// TAP port against the real kernel: config (a TAP device created by the port, moved into a test namespace) →
/// send (the port, or scapy on the kernel side) → verify (tshark in the namespace, or the port's buffers).
/// </summary>
public sealed class TapPortTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public void The_port_creates_its_device_up_and_takes_its_peer_mac_from_it()
    {
        using NetnsLab lab = NetnsLab.CreateOrSkip();
        string name = "fpt" + lab.Suffix;
        using (var port = new TapPort("g0", name))
        {
            int flags = Convert.ToInt32(File.ReadAllText($"/sys/class/net/{name}/flags").Trim(), 16);
            Assert.Equal(1, flags & 1); // IFF_UP
            Assert.Equal(lab.Mac(null, name), string.Join(':', port.PeerMac.ToArray().Select(b => b.ToString("x2", CultureInfo.InvariantCulture))));
            Assert.False(port.Mac.SequenceEqual(port.PeerMac));
        }

        Assert.False(Directory.Exists($"/sys/class/net/{name}")); // Not persistent: gone with the port.
    }

    [Fact]
    public void Frames_the_port_writes_arrive_on_the_kernel_side_byte_for_byte()
    {
        using VethLab veth = VethLab.Create();
        using var dir = new TempDirectory();
        string name = "fpt" + veth.Lab.Suffix;
        using var port = new TapPort("g0", name);
        MoveIntoNamespace(veth, name);

        byte[][] frames = veth.Scapy(VethLab.MixedFramesScript + "\n" + """
            for f in frames:
                f.src, f.dst = '02:00:5c:a9:00:02', '02:00:5c:a9:00:01'
                print(bytes(f).hex())
            """).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(PortHarness.Hex).ToArray();

        using (var capture = TsharkCapture.Start(veth.Namespace, name, dir.File("tap.pcap"), frames.Length, Bound, $"ether src {VethLab.PortMacText}"))
        {
            PortHarness.TransmitAll(port, [.. frames, new byte[10]], Bound);
            capture.Finish(Bound + TimeSpan.FromSeconds(5));
        }

        var captured = new List<string>();
        using (CaptureReader reader = CaptureReader.Open(dir.File("tap.pcap")))
        {
            while (reader.TryReadNext(out CapturedPacket packet))
            {
                captured.Add(Convert.ToHexString(packet.Data));
            }
        }

        Assert.Equal(frames.Select(Convert.ToHexString), captured);
        Assert.Equal(frames.Length, port.Counters.TxPackets);
        Assert.Equal(1, port.Counters.TxInvalid); // The 10-byte frame is shorter than an Ethernet header.
    }

    [Fact]
    public async Task Frames_the_kernel_side_sends_are_received_with_vlan_tags_and_longer_than_the_buffer_whole()
    {
        using VethLab veth = VethLab.Create();
        string name = "fpt" + veth.Lab.Suffix;
        using var port = new TapPort("g0", name);
        using var harness = new PortHarness(capacity: 1024);
        long[] drops = GC.AllocateArray<long>(DropReasons.Count, pinned: true);
        AttachDrops(port, drops);
        MoveIntoNamespace(veth, name);

        Task<string> scapy = veth.ScapyInBackground(VethLab.MixedFramesScript + "\n" + $$"""
            for f in frames: print(bytes(f).hex(), flush=True)
            sendp(frames, iface='{{name}}', verbose=0)
            """);
        List<byte[]> received = harness.ReceiveUntil(port, 7, Bound, f => PortHarness.FromMac(f, VethLab.PeerMac));
        string[] sent = (await scapy).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        received.AddRange(harness.ReceiveFor(port, TimeSpan.FromMilliseconds(300), f => PortHarness.FromMac(f, VethLab.PeerMac)));

        // The last frame (1.3 KB) is longer than this harness's 1024-byte buffers: it comes whole from the port's own
        // large buffer, in order, and nothing is dropped.
        byte[][] expected = sent.Select(PortHarness.Hex).ToArray();
        Assert.Equal(8, expected.Length);
        Assert.True(expected[^1].Length > 1024);
        Assert.Equal(expected.Select(Convert.ToHexString), received.Select(Convert.ToHexString));
        Assert.Equal(0, port.Counters.RxTooBig);
        Assert.Equal(0, drops[(int)DropReason.TooBig]);
    }

    [Fact]
    public async Task At_mtu_9000_jumbo_frames_from_the_kernel_side_are_received_whole_between_small_ones()
    {
        using VethLab veth = VethLab.Create();
        string name = "fpt" + veth.Lab.Suffix;
        using var port = new TapPort("g0", name, mtu: 9000);
        Assert.Equal(9000, port.Mtu);
        using var harness = new PortHarness(capacity: 2048 - 64); // the worker's buffer: a 2 KiB pool slot less its headroom
        long[] drops = GC.AllocateArray<long>(DropReasons.Count, pinned: true);
        AttachDrops(port, drops);
        MoveIntoNamespace(veth, name);

        // Small, jumbo, jumbo, small, the longest an MTU of 9000 takes (9014 bytes), small: one burst.
        Task<string> scapy = veth.ScapyInBackground($$"""
            s, d = '02:00:5c:a9:00:01', '02:00:5c:a9:00:02'
            def f(i, n): return Ether(src=s, dst=d)/IP(src='198.18.1.1', dst='198.18.1.2', id=i)/UDP(sport=6000 + i, dport=9)/Raw(bytes((i + k) % 256 for k in range(n)))
            frames = [f(0, 18), f(1, 8000), f(2, 7000), f(3, 100), f(4, 9000 - 28), f(5, 18)]
            for x in frames: print(bytes(x).hex(), flush=True)
            sendp(frames, iface='{{name}}', verbose=0)
            """);
        List<byte[]> received = harness.ReceiveUntil(port, 6, Bound, f => PortHarness.FromMac(f, VethLab.PeerMac));
        byte[][] sent = [.. (await scapy).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(PortHarness.Hex)];

        Assert.Equal(9014, sent[4].Length);
        Assert.Equal(sent.Select(Convert.ToHexString), received.Select(Convert.ToHexString));
        Assert.Equal(0, port.Counters.RxTooBig);
        Assert.Equal(0, drops[(int)DropReason.TooBig]);
    }

    private static unsafe void AttachDrops(TapPort port, long[] pinned) =>
        port.AttachDropCounters((long*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref pinned[0]));

    [Fact]
    public void A_name_too_long_for_the_kernel_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new TapPort("g0", "fp-name-too-long-0"));
        Assert.Contains("fp-name-too-long-0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Attaching_to_a_device_of_another_kind_is_an_error_naming_the_call()
    {
        using VethLab veth = VethLab.Create();
        var error = Assert.Throws<ErrnoException>(() => new TapPort("g0", veth.RootLink)); // A veth, not a TAP.
        Assert.Equal("ioctl(TUNSETIFF)", error.Call);
        Assert.Contains(veth.RootLink, error.Message, StringComparison.Ordinal);
    }

    /// <summary>The file descriptor keeps working after the device moves; the move takes it down, so bring it up there.</summary>
    private static void MoveIntoNamespace(VethLab veth, string name)
    {
        ProcessRunner.Run("ip", "link", "set", name, "netns", veth.Namespace).EnsureSuccess();
        veth.Lab.SetUp(name, veth.Namespace);
    }
}
