using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Ports.Segmentation;

/// <summary>
/// A TAP (no vnet headers) as the egress that takes no offload: config (the port's TAP device in a test namespace,
/// MTU 1500) → send (scapy's super-frames from gso_cases.py, marked as GSO with a partial checksum the way an AF_PACKET
/// port receives them; a TCP frame longer than the MTU without GSO; frames that cannot be cut) → verify (a tshark
/// capture in the namespace equals scapy's segments byte for byte; the rest are counted as too-big).
/// </summary>
public sealed unsafe class TapSegmentationTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(15);

    [Fact]
    public void Super_frames_leave_a_tap_as_the_segments_scapy_built_and_the_rest_are_too_big()
    {
        IReadOnlyList<GsoCase> all = GsoCase.Load();
        (string Name, GsoKind Kind)[] picked =
        [
            ("v4-tcp-64k", GsoKind.TcpV4), ("v6-tcp-fin", GsoKind.TcpV6), ("v6-tcp-ext-header", GsoKind.TcpV6),
            ("v4-udp-l4", GsoKind.UdpL4), ("v4-tcp-one-segment", GsoKind.TcpV4),
            ("v4-tcp-no-tcp-options", GsoKind.None), // 9054 bytes without GSO: cut at the MTU, 1460 = its MSS.
        ];
        GsoCase[] cases = picked.Select(p => all.Single(c => c.Name == p.Name)).ToArray();
        byte[][] expected = cases.SelectMany(c => c.Segments).ToArray();

        using VethLab veth = VethLab.Create();
        using var dir = new TempDirectory();
        string name = "fpg" + veth.Lab.Suffix;
        using var port = new TapPort("t0", name, mtu: 1500);
        long* drops = stackalloc long[DropReasons.Count];
        new Span<long>(drops, DropReasons.Count).Clear();
        port.AttachDropCounters(drops);
        ProcessRunner.Run("ip", "link", "set", name, "netns", veth.Namespace).EnsureSuccess();
        veth.Lab.SetUp(name, veth.Namespace);

        using (var capture = TsharkCapture.Start(veth.Namespace, name, dir.File("tap.pcap"), expected.Length, Bound, "ether src 02:00:00:00:aa:01"))
        {
            for (int i = 0; i < cases.Length; i++)
            {
                Send(port, cases[i].Input, picked[i].Kind, (ushort)cases[i].Mss);
            }

            // Cannot be cut: UDP L4 datagrams larger than the MTU allows, and a 2000-byte frame that is not IP.
            GsoCase udp = all.Single(c => c.Name == "v4-udp-l4");
            Send(port, udp.Input, GsoKind.UdpL4, 1480);
            byte[] other = new byte[2000];
            udp.Input.AsSpan(0, 12).CopyTo(other);
            Send(port, other, GsoKind.None, 0);
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

        Assert.Equal(expected.Select(Convert.ToHexString), captured);
        Assert.Equal(expected.Length, port.Counters.TxPackets);
        Assert.Equal(2, port.Counters.TxTooBig);
        Assert.Equal(2, drops[(int)DropReason.TooBig]);
        Assert.Equal(1500, port.Mtu);
    }

    private static void Send(TapPort port, byte[] input, GsoKind kind, ushort mss)
    {
        fixed (byte* frame = input)
        {
            var meta = default(PacketMeta);
            HeaderParser.ParseFrame(frame, input.Length, ref meta);
            var view = new FrameView(frame, input.Length, new FrameOffload(kind, mss, OffloadFlags.ChecksumPartial));
            Assert.Equal(1, port.Transmit(new ReadOnlySpan<FrameView>(in view), new ReadOnlySpan<PacketMeta>(in meta)));
        }
    }
}
