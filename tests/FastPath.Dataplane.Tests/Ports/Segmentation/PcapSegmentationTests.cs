using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Ports.Segmentation;

/// <summary>
/// A capture file as an egress: config (a pcap port writing a file) → send (scapy's super-frames marked GSO + partial,
/// and a plain frame) → verify (the file holds scapy's segments byte for byte and the plain frame as it was).
/// </summary>
public sealed unsafe class PcapSegmentationTests
{
    [Fact]
    public void A_capture_shows_super_frames_as_the_segments_a_wire_would_carry()
    {
        IReadOnlyList<GsoCase> all = GsoCase.Load();
        GsoCase tcp = all.Single(c => c.Name == "v6-tcp-vlan");
        GsoCase udp = all.Single(c => c.Name == "v4-udp-l4-vlan");
        GsoCase plain = all.Single(c => c.Name == "v4-tcp-one-segment");
        using var dir = new TempDirectory();
        string path = dir.File("out.pcapng");
        using (var port = new PcapPort("p0", null, path))
        {
            Send(port, tcp.Input, new FrameOffload(GsoKind.TcpV6, (ushort)tcp.Mss, OffloadFlags.ChecksumPartial));
            Send(port, udp.Input, new FrameOffload(GsoKind.UdpL4, (ushort)udp.Mss, OffloadFlags.ChecksumPartial));
            Send(port, plain.Input, default);
            port.Flush();
        }

        var captured = new List<string>();
        using (CaptureReader reader = CaptureReader.Open(path))
        {
            while (reader.TryReadNext(out CapturedPacket packet))
            {
                captured.Add(Convert.ToHexString(packet.Data));
            }
        }

        Assert.Equal(tcp.Segments.Concat(udp.Segments).Append(plain.Input).Select(Convert.ToHexString), captured);
    }

    private static void Send(PcapPort port, byte[] input, FrameOffload offload)
    {
        fixed (byte* frame = input)
        {
            var meta = default(PacketMeta);
            HeaderParser.ParseFrame(frame, input.Length, ref meta);
            var view = new FrameView(frame, input.Length, offload);
            Assert.Equal(1, port.Transmit(new ReadOnlySpan<FrameView>(in view), new ReadOnlySpan<PacketMeta>(in meta)));
        }
    }
}
