using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Ports.Segmentation;
using FastPath.Dataplane.Tests.Infrastructure;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Ports.Segmentation;

/// <summary>
/// Config → send → verify for software GSO: scapy (gso_cases.py) builds each super-frame (TCP over IPv4 and IPv6,
/// with IP options, an IPv6 extension header, an 802.1Q tag, FIN/PSH/CWR/ECE, sequence and IPv4 ID wrapping; UDP L4
/// GSO) and, from scratch, every segment that must leave. The segmenter reads the super-frame flush against a
/// PROT_NONE page and writes into output that ends flush against another, so one byte too far either way faults;
/// every segment must equal scapy's byte for byte, and tshark must find every checksum good.
/// </summary>
public sealed unsafe class GsoSegmenterTests
{
    private static readonly Lazy<IReadOnlyList<GsoCase>> s_cases = new(GsoCase.Load);

    [Fact]
    public void The_corpus_covers_tcp_and_udp_over_both_families_tagged_and_untagged()
    {
        IReadOnlyList<GsoCase> cases = s_cases.Value;
        Assert.True(cases.Count >= 16);
        Assert.Contains(cases, c => c.Name.StartsWith("v4-tcp", StringComparison.Ordinal) && c.Name.Contains("vlan", StringComparison.Ordinal));
        Assert.Contains(cases, c => c.Name.StartsWith("v6-tcp", StringComparison.Ordinal) && c.Name.Contains("vlan", StringComparison.Ordinal));
        Assert.Contains(cases, c => c.Name.StartsWith("v6-udp", StringComparison.Ordinal));
        Assert.Contains(cases, c => c.Segments.Count == 45 && c.Input.Length > 64000);
    }

    [Fact]
    public void Every_segment_equals_the_one_scapy_built()
    {
        using var input = new GuardedFrames(70000);
        using var output = new GuardedFrames(80000);
        var failures = new List<string>();
        foreach (GsoCase c in s_cases.Value)
        {
            byte[][] segments = Run(input, output, c);
            if (segments.Length != c.Segments.Count)
            {
                failures.Add($"{c.Name}: {segments.Length} segments, scapy made {c.Segments.Count}");
                continue;
            }

            for (int s = 0; s < segments.Length; s++)
            {
                if (!segments[s].AsSpan().SequenceEqual(c.Segments[s]))
                {
                    failures.Add($"{c.Name} segment {s}:\n  expected {Convert.ToHexString(c.Segments[s])}\n  actual   {Convert.ToHexString(segments[s])}");
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void Tshark_finds_every_checksum_of_every_segment_good()
    {
        using var input = new GuardedFrames(70000);
        using var output = new GuardedFrames(80000);
        using var dir = new TempDirectory();
        string path = dir.File("segments.pcap");
        int written = 0;
        using (var writer = CaptureWriter.Create(path, new CaptureFormat(CaptureFileKind.Pcap, Nanoseconds: false)))
        {
            foreach (GsoCase c in s_cases.Value)
            {
                foreach (byte[] segment in Run(input, output, c))
                {
                    writer.Write(segment, written++ * 1000L);
                }
            }
        }

        Assert.Equal(s_cases.Value.Sum(c => c.Segments.Count), written);
        IReadOnlyList<string[]> rows = Tshark.Fields(path,
            ["frame.number", "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status"],
            ["ip.check_checksum:TRUE", "tcp.check_checksum:TRUE", "udp.check_checksum:TRUE"]);
        Assert.Equal(written, rows.Count);
        foreach (string[] row in rows)
        {
            string line = string.Join('|', row);
            Assert.All(row[1].Split(',', StringSplitOptions.RemoveEmptyEntries), status => Assert.True(status == "1", line));
            string transport = row[2].Length > 0 ? row[2] : row[3];
            Assert.True(transport == "1", line);
        }
    }

    [Fact]
    public void A_frame_that_cannot_be_segmented_or_does_not_fit_writes_nothing()
    {
        GsoCase c = s_cases.Value.First(c => c.Name == "v4-tcp-fin-psh-cwr");
        byte[] memory = new byte[c.Input.Length * 2];
        var views = new FrameView[GsoSegmenter.MaxSegments];
        fixed (byte* frame = c.Input)
        fixed (byte* target = memory)
        {
            var meta = default(PacketMeta);
            HeaderParser.ParseFrame(frame, c.Input.Length, ref meta);
            int needed = GsoSegmenter.OutputLength(meta, c.Mss, out int count);
            Assert.Equal(c.Segments.Sum(s => s.Length), needed);
            Assert.Equal(c.Segments.Count, count);

            Assert.Equal(0, GsoSegmenter.Segment(frame, meta, c.Mss, target, needed - 1, views));
            Assert.Equal(0, GsoSegmenter.Segment(frame, meta, c.Mss, target, memory.Length, views.AsSpan(0, count - 1)));
            Assert.Equal(0, GsoSegmenter.Segment(frame, meta, 0, target, memory.Length, views));
            Assert.Equal(0, GsoSegmenter.Segment(frame, meta, 8, target, memory.Length, views)); // 563 segments: more than allowed
            Assert.All(memory, b => Assert.Equal(0, b));

            PacketMeta icmp = meta;
            icmp.Protocol = 1;
            Assert.Equal(-1, GsoSegmenter.OutputLength(icmp, c.Mss, out _));
            PacketMeta fragment = meta;
            fragment.Fragment = FragmentState.First;
            Assert.Equal(-1, GsoSegmenter.OutputLength(fragment, c.Mss, out _));
        }
    }

    private static byte[][] Run(GuardedFrames input, GuardedFrames output, GsoCase c)
    {
        byte* frame = input.Place(c.Input);
        var meta = default(PacketMeta);
        HeaderParser.ParseFrame(frame, c.Input.Length, ref meta);
        Assert.True(meta.Verdict == DropReason.None, c.Name);
        int needed = GsoSegmenter.OutputLength(meta, c.Mss, out _);
        Assert.True(needed > 0, c.Name);

        // The output ends on the last readable byte: a segment written one byte long faults.
        byte* target = output.Place(new byte[needed]);
        var views = new FrameView[GsoSegmenter.MaxSegments];
        int count = GsoSegmenter.Segment(frame, meta, c.Mss, target, needed, views);
        return views.Take(count).Select(v => new ReadOnlySpan<byte>(v.Data, v.Length).ToArray()).ToArray();
    }
}
