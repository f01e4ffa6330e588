using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Ports;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Ports;

/// <summary>
/// AF_PACKET port against the real kernel: config (veth pair, one end in a test namespace) → send (scapy, or the
/// port) → verify (the port's buffers, or a tshark capture in the namespace) byte for byte.
/// </summary>
public sealed class AfPacketPortTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Small rings (tests open several ports at once) of many blocks: under sparse traffic each 1 ms retire
    /// timeout uses up a block, so 256 of them let a loaded test machine stall the reader for 256 ms without a drop.
    /// </summary>
    private static readonly AfPacketOptions SmallRings = SmallRingsOf(AfPacketRxRing.Frames);

    private static AfPacketOptions SmallRingsOf(AfPacketRxRing ring) => new() { RxRing = ring, BlockSize = 1 << 12, BlockCount = 256, RingFrames = 64 };

    [Theory]
    [InlineData(AfPacketRxRing.Frames)]
    [InlineData(AfPacketRxRing.Blocks)]
    public async Task Receives_exactly_the_frames_scapy_sends_in_place_with_vlan_tags_restored(AfPacketRxRing ring)
    {
        using VethLab lab = VethLab.Create();
        using var port = new AfPacketPort("u0", lab.RootLink, SmallRingsOf(ring));
        using var harness = new PortHarness(capacity: 1024);

        Task<string> scapy = lab.ScapyInBackground(VethLab.MixedFramesScript + "\n" + """
            for f in frames: print(bytes(f).hex(), flush=True)
            sendp(frames, iface='IFACE', verbose=0)
            """.Replace("IFACE", lab.PeerLink, StringComparison.Ordinal));
        List<byte[]> received = harness.ReceiveUntil(port, 8, Bound, f => PortHarness.FromMac(f, VethLab.PeerMac));
        string[] sent = (await scapy).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        received.AddRange(harness.ReceiveFor(port, TimeSpan.FromMilliseconds(300), f => PortHarness.FromMac(f, VethLab.PeerMac)));

        // The frames stay in the ring, so the 1322-byte one is received too although the caller's buffers hold 1024.
        Assert.Equal(8, sent.Length);
        Assert.Equal(sent.Select(PortHarness.Hex).Select(Convert.ToHexString), received.Select(Convert.ToHexString));
        Assert.Equal(0, port.Counters.RxTooBig);
        Assert.True(port.Counters.RxPackets >= sent.Length);

        port.RefreshCounters();
        Assert.True(port.Counters.KernelPackets >= sent.Length, $"kernel saw {port.Counters.KernelPackets}");
        Assert.Equal(0, port.Counters.KernelDrops);
    }

    [Theory]
    [InlineData(AfPacketRxRing.Frames)]
    [InlineData(AfPacketRxRing.Blocks)]
    public async Task The_socket_is_readable_only_when_a_receive_would_find_a_frame_and_wakes_a_sleeper_for_one(AfPacketRxRing ring)
    {
        using VethLab lab = VethLab.Create();
        using var port = new AfPacketPort("u0", lab.RootLink, SmallRingsOf(ring));
        using var harness = new PortHarness();
        int fd = port.ReadinessHandle;
        Assert.True(fd >= 0);

        // Drained, the socket is not readable, so an idle worker really sleeps. A frame the kernels send by themselves
        // (IPv6 neighbour discovery) may come in between: then readable means the next receive finds it.
        harness.ReceiveFor(port, TimeSpan.FromMilliseconds(300), _ => true);
        for (int attempt = 0; ; attempt++)
        {
            Assert.True(attempt < 20, "the drained socket stayed readable");
            if (harness.ReceiveOnce(port, _ => true).Count != 0)
            {
                continue;
            }

            if (Poll(fd, 0) == 0)
            {
                break;
            }

            Assert.NotEmpty(harness.ReceiveOnce(port, _ => true));
        }

        // A sleeper in poll(2) wakes for one frame (the block ring: once the kernel retires the block).
        Task<string> scapy = lab.ScapyInBackground("""
            import time
            time.sleep(0.2)
            sendp(Ether(src='02:00:5c:a9:00:01', dst='02:00:5c:a9:00:02')/IP(src='198.18.1.1', dst='198.18.1.2')/UDP(sport=7, dport=9)/Raw(b'wake'), iface='IFACE', verbose=0)
            """.Replace("IFACE", lab.PeerLink, StringComparison.Ordinal));
        List<byte[]> woken = [];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (woken.Count == 0 && clock.Elapsed < Bound)
        {
            Assert.Equal(1, Poll(fd, (int)Bound.TotalMilliseconds));
            woken.AddRange(harness.ReceiveOnce(port, f => PortHarness.FromMac(f, VethLab.PeerMac)));
        }

        await scapy;
        Assert.Single(woken);
    }

    private static unsafe int Poll(int fd, int timeoutMilliseconds)
    {
        var pollFd = new Libc.PollFd { Fd = fd, Events = LinuxConstants.PollIn };
        int ready = Libc.Poll(&pollFd, 1, timeoutMilliseconds);
        Assert.True(ready >= 0, "poll failed");
        Assert.True(ready == 0 || (pollFd.Revents & LinuxConstants.PollIn) != 0, $"poll revents {pollFd.Revents}");
        return ready;
    }

    [Fact]
    public unsafe void A_frame_longer_than_a_ring_block_is_dropped_and_counted_as_too_big()
    {
        using VethLab lab = VethLab.Create();
        lab.Lab.Exec(lab.Namespace, "ip", "link", "set", lab.PeerLink, "mtu", "9000");
        using var port = new AfPacketPort("u0", lab.RootLink, new AfPacketOptions { RxRing = AfPacketRxRing.Blocks, BlockSize = 1 << 12, BlockCount = 64, Mtu = 9000 });
        using var harness = new PortHarness();
        long* drops = stackalloc long[DropReasons.Count];
        new Span<long>(drops, DropReasons.Count).Clear();
        port.AttachDropCounters(drops);

        // A 6000-byte frame cannot fit a 4 KiB block: the kernel cuts it, and the port must not pass on the stump.
        lab.Scapy($"""
            s, d = '02:00:5c:a9:00:01', '02:00:5c:a9:00:02'
            sendp([Ether(src=s, dst=d)/IP(src='198.18.7.1', dst='198.18.7.2')/UDP(sport=1, dport=9)/Raw(b'x' * n) for n in (5958, 100)], iface='{lab.PeerLink}', verbose=0)
            """);
        List<byte[]> received = harness.ReceiveUntil(port, 1, Bound, f => PortHarness.FromMac(f, VethLab.PeerMac));
        received.AddRange(harness.ReceiveFor(port, TimeSpan.FromMilliseconds(300), f => PortHarness.FromMac(f, VethLab.PeerMac)));

        Assert.Equal([142], received.Select(f => f.Length));
        Assert.Equal(1, port.Counters.RxTooBig);
        Assert.Equal(1, drops[(int)DropReason.TooBig]);
        Assert.Equal(9000 + 14, port.MaxTransmitLength);
    }

    [Fact]
    public void Transmitted_frames_reach_the_peer_byte_for_byte_and_never_come_back_to_the_port()
    {
        using VethLab lab = VethLab.Create();
        using var port = new AfPacketPort("s0", lab.RootLink, SmallRings);
        using var harness = new PortHarness();
        using var dir = new TempDirectory();

        // The same mix, built by scapy but sent by the port: swap the MACs so the port is the source.
        byte[][] frames = lab.Scapy(VethLab.MixedFramesScript + "\n" + """
            for f in frames:
                f.src, f.dst = '02:00:5c:a9:00:02', '02:00:5c:a9:00:01'
                print(bytes(f).hex())
            """).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(PortHarness.Hex).ToArray();

        using (var capture = TsharkCapture.Start(lab.Namespace, lab.PeerLink, dir.File("tx.pcap"), frames.Length, Bound, $"ether src {VethLab.PortMacText}"))
        {
            PortHarness.TransmitAll(port, frames, Bound);
            capture.Finish(Bound + TimeSpan.FromSeconds(5));
        }

        var captured = new List<string>();
        using (CaptureReader reader = CaptureReader.Open(dir.File("tx.pcap")))
        {
            while (reader.TryReadNext(out CapturedPacket packet))
            {
                captured.Add(Convert.ToHexString(packet.Data));
            }
        }

        Assert.Equal(frames.Select(Convert.ToHexString), captured);
        Assert.Equal(frames.Length, port.Counters.TxPackets);
        Assert.Equal(frames.Sum(f => (long)f.Length), port.Counters.TxBytes);
        Assert.Empty(harness.ReceiveFor(port, TimeSpan.FromMilliseconds(300), f => PortHarness.FromMac(f, VethLab.PortMac)));
    }

    [Fact]
    public void Frames_the_port_cannot_send_are_refused_and_counted_without_stopping_the_batch()
    {
        using VethLab lab = VethLab.Create();
        using var port = new AfPacketPort("s0", lab.RootLink, SmallRings);
        byte[] good = new byte[60];
        VethLab.PeerMac.CopyTo(good, 0);
        VethLab.PortMac.CopyTo(good, 6);
        byte[] tagged = new byte[port.MaxTransmitLength + 4];
        good.CopyTo(tagged, 0);
        tagged[12] = 0x81; // 802.1Q: the kernel allows the tag's 4 bytes beyond the MTU.
        byte[][] frames = [new byte[13], good, new byte[port.MaxTransmitLength + 1], tagged, new byte[port.MaxTransmitLength + 5], good];

        PortHarness.TransmitAll(port, frames, Bound);

        Assert.Equal(1500 + 14, port.MaxTransmitLength);
        Assert.Equal(1, port.Counters.TxInvalid);
        Assert.Equal(2, port.Counters.TxTooBig); // No metadata says how to segment them.
        Assert.Equal(3, port.Counters.TxPackets);
        Assert.Equal(0, port.Counters.TxErrors);
    }

    [Fact]
    public async Task Two_ports_in_one_fanout_group_split_the_flows_and_lose_none()
    {
        using VethLab lab = VethLab.Create();
        int group = Random.Shared.Next(1, 0xFFFF);
        var options = new AfPacketOptions { BlockSize = 1 << 12, BlockCount = 256, FanoutGroup = group };
        using var first = new AfPacketPort("u0", lab.RootLink, options);
        using var second = new AfPacketPort("u1", lab.RootLink, options);
        using var harness = new PortHarness();

        const int Flows = 16;
        const int PerFlow = 8;
        Task<string> scapy = lab.ScapyInBackground($$"""
            s, d = '02:00:5c:a9:00:01', '02:00:5c:a9:00:02'
            frames = [Ether(src=s, dst=d)/IP(src='198.18.2.1', dst='198.18.2.2')/UDP(sport=7000 + f, dport=9)/Raw(bytes([n])) for n in range({{PerFlow}}) for f in range({{Flows}})]
            sendp(frames, iface='{{lab.PeerLink}}', verbose=0)
            """);

        var got = new List<(int Port, int Flow, int Sequence)>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (got.Count < Flows * PerFlow && clock.Elapsed < Bound)
        {
            int before = got.Count;
            foreach ((AfPacketPort port, int index) in new[] { (first, 0), (second, 1) })
            {
                foreach (byte[] frame in harness.ReceiveOnce(port, f => PortHarness.FromMac(f, VethLab.PeerMac)))
                {
                    got.Add((index, ((frame[34] << 8) | frame[35]) - 7000, frame[42]));
                }
            }

            if (got.Count == before)
            {
                Thread.Sleep(1); // Well within the ring's 256 blocks × 1 ms retire timeout.
            }
        }

        await scapy;
        first.RefreshCounters();
        second.RefreshCounters();
        Assert.True(
            Flows * PerFlow == got.Count,
            $"received {got.Count}: port 0 rx {first.Counters.RxPackets} kernel {first.Counters.KernelPackets}/{first.Counters.KernelDrops}, port 1 rx {second.Counters.RxPackets} kernel {second.Counters.KernelPackets}/{second.Counters.KernelDrops}");
        foreach (IGrouping<int, (int Port, int Flow, int Sequence)> flow in got.GroupBy(g => g.Flow))
        {
            Assert.Single(flow.Select(g => g.Port).Distinct()); // One flow, one worker...
            Assert.Equal(Enumerable.Range(0, PerFlow), flow.Select(g => g.Sequence)); // ...in order, none lost.
        }

        Assert.Equal(Flows, got.Select(g => g.Flow).Distinct().Count());
        Assert.Equal(2, got.Select(g => g.Port).Distinct().Count()); // 16 flows all on one socket: odds 2^-15.
    }

    [Fact]
    public void A_full_ring_drops_in_the_kernel_and_the_statistics_count_every_frame()
    {
        using VethLab lab = VethLab.Create();
        // Two 4 KiB blocks hold a few dozen small frames; nobody reads while scapy sends 300.
        using var port = new AfPacketPort("u0", lab.RootLink, new AfPacketOptions { RxRing = AfPacketRxRing.Blocks, BlockSize = 4096, BlockCount = 2, FrameSize = 2048, RetireTimeoutMilliseconds = 1000 });
        using var harness = new PortHarness();

        // No IPv6 on the peer: no stray MLD report may land in the ring after the last read and upset the sums.
        lab.Lab.Exec(lab.Namespace, "sysctl", "-qw", $"net.ipv6.conf.{lab.PeerLink}.disable_ipv6=1");
        lab.Flood(300);

        List<byte[]> received = harness.ReceiveFor(port, TimeSpan.FromMilliseconds(2500), f => PortHarness.FromMac(f, VethLab.PeerMac));
        port.RefreshCounters(); // The last partly filled block has retired (1 s timeout) and been read by now.

        Assert.InRange(received.Count, 1, 299);
        Assert.True(port.Counters.KernelDrops >= 300 - received.Count, $"drops {port.Counters.KernelDrops}, received {received.Count}");
        Assert.Equal(port.Counters.RxPackets + port.Counters.KernelDrops, port.Counters.KernelPackets);
        Assert.True(port.Counters.KernelFreezes >= 1);
    }

    [Fact]
    public void A_full_frame_ring_drops_in_the_kernel_and_the_statistics_count_every_frame()
    {
        using VethLab lab = VethLab.Create();
        // One 1 MiB block of 15 frames (the default ring kind); nobody reads while scapy sends 300.
        using var port = new AfPacketPort("u0", lab.RootLink, new AfPacketOptions { RingFrames = 8 });
        using var harness = new PortHarness();
        lab.Lab.Exec(lab.Namespace, "sysctl", "-qw", $"net.ipv6.conf.{lab.PeerLink}.disable_ipv6=1");
        lab.Flood(300);

        List<byte[]> received = harness.ReceiveFor(port, TimeSpan.FromMilliseconds(1000), f => PortHarness.FromMac(f, VethLab.PeerMac));
        port.RefreshCounters();

        Assert.InRange(received.Count, 1, 15); // at most one ring (another frame may hold a slot)
        Assert.True(port.Counters.KernelDrops >= 300 - received.Count, $"drops {port.Counters.KernelDrops}, received {received.Count}");
        Assert.Equal(port.Counters.RxPackets + port.Counters.KernelDrops, port.Counters.KernelPackets);
        Assert.Equal(0, port.Counters.KernelFreezes);
    }

    [Fact]
    public void Frames_from_a_local_sender_with_checksum_offload_are_counted_as_partial()
    {
        using VethLab lab = VethLab.Create();
        using var port = new AfPacketPort("u0", lab.RootLink, SmallRings);
        using var harness = new PortHarness();
        lab.Lab.AddAddress(lab.Namespace, lab.PeerLink, "198.18.6.1/24");
        lab.Lab.AddNeighbour(lab.Namespace, lab.PeerLink, "198.18.6.2", VethLab.PortMacText);

        // The namespace's own UDP stack sends; veth offloads the UDP checksum, so it is still to be filled in.
        lab.Lab.Exec(lab.Namespace, FastPath.Testing.Scapy.Python, "-c",
            "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor i in range(3): s.sendto(b'offloaded', ('198.18.6.2', 9))");
        List<byte[]> received = harness.ReceiveUntil(port, 3, Bound, f => f.Length > 23 && f[23] == 17 && f.AsSpan(0, 6).SequenceEqual(VethLab.PortMac));

        Assert.Equal(3, received.Count);
        Assert.Equal(3, port.Counters.RxChecksumPartial);
    }

    [Fact]
    public void A_missing_interface_is_an_error_naming_the_call_and_the_interface()
    {
        var error = Assert.Throws<ErrnoException>(() => new AfPacketPort("u0", "fpnone0", SmallRings));
        Assert.Equal("if_nametoindex", error.Call);
        Assert.Contains("fpnone0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_ring_geometry_is_refused_before_any_socket_is_opened()
    {
        var error = Assert.Throws<ArgumentException>(() => new AfPacketPort("u0", "lo", new AfPacketOptions { BlockSize = 5000 }));
        Assert.Contains("block size 5000", error.Message, StringComparison.Ordinal);
    }
}
