using System.Buffers.Binary;
using System.Net;
using System.Text.Json;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports.Segmentation;
using FastPath.Dataplane.Rewrite;
using FastPath.Dataplane.Tests.Infrastructure;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Ports.Segmentation;

/// <summary>
/// Super-frames through the translation stage, tagged and untagged, IPv4 and IPv6 (this machine's kernel has no
/// 802.1Q, so tenants are tested here rather than end to end): config (tenant 100 mappings) → send (scapy's super-frame,
/// its checksum field garbage as offload leaves it, marked GSO + partial) → verify: the stage keeps the offload and
/// pops or pushes the tag; the virtio_net_hdr the AF_PACKET port would send names the translated offsets; a NIC that
/// completes the checksum from csum_start/csum_offset gets scapy's full checksum of the whole translated frame; and
/// software segmentation of the translated frame gives exactly scapy's segments.
/// </summary>
public sealed unsafe class GsoTranslationTests : IDisposable
{
    private readonly MappingTable _table = new();

    public GsoTranslationTests()
    {
        _table.Add(MappingEntry.Create(100, IPAddress.Parse("10.0.0.7"), IPAddress.Parse("198.19.1.7")));
        _table.Add(MappingEntry.Create(100, IPAddress.Parse("fd00::7"), IPAddress.Parse("2001:db8:2::7")));
    }

    public void Dispose() => _table.Dispose();

    [Fact]
    public void A_translated_super_frame_leaves_with_offsets_a_checksum_and_segments_that_match_scapy()
    {
        using var guarded = new GuardedFrames(32768);
        using var output = new GuardedFrames(40960);
        var failures = new List<string>();
        int cases = 0;
        foreach ((string name, string direction, int mss, byte[] input, byte[] whole, byte[][] segments) in Load())
        {
            cases++;
            var stage = new TranslationStage(_table, direction == "u2s" ? TranslationDirection.UserToSecure : TranslationDirection.SecureToUser, null);

            // The frame's last byte is the last readable one; 4 bytes of headroom in front for a tag push.
            byte[] placed = new byte[4 + input.Length];
            input.CopyTo(placed, 4);
            byte* start = guarded.Place(placed) + 4;
            bool v6 = whole[whole[12] == 0x81 ? 16 : 12] == 0x86;
            var offload = new FrameOffload(v6 ? GsoKind.TcpV6 : GsoKind.TcpV4, (ushort)mss, OffloadFlags.ChecksumPartial);
            var frames = new[] { new FrameView(start, input.Length, offload) };
            var meta = new PacketMeta[1];
            stage.Process(frames, meta);
            Assert.True(meta[0].Verdict == DropReason.None, $"{name}: {DropReasons.Name(meta[0].Verdict)}");
            FrameView frame = frames[0];
            Assert.Equal(whole.Length, frame.Length);
            Assert.Equal(offload.GsoType, frame.Offload.GsoType);
            Assert.Equal(offload.GsoSize, frame.Offload.GsoSize);

            fixed (PacketMeta* m = meta)
            {
                Assert.Equal(DropReason.None, VnetOffload.Prepare(frame, m, 1500, out VirtioNetHdr header));
                int l3 = whole[12] == 0x81 ? 18 : 14;
                int l4 = l3 + (v6 ? 40 : 20);
                Assert.Equal(LinuxConstants.VirtioNetHdrFNeedsCsum, header.Flags);
                Assert.Equal(v6 ? LinuxConstants.VirtioNetHdrGsoTcpV6 : LinuxConstants.VirtioNetHdrGsoTcpV4, header.GsoType);
                Assert.Equal(mss, header.GsoSize);
                Assert.Equal(l4 + 32, header.HdrLen);
                Assert.Equal(l4, header.CsumStart);
                Assert.Equal(16, header.CsumOffset);

                // What the NIC does with NEEDS_CSUM: fold the sum from csum_start to the end, complement, store.
                byte[] translated = new ReadOnlySpan<byte>(frame.Data, frame.Length).ToArray();
                fixed (byte* t = translated)
                {
                    ushort completed = IncrementalChecksum.Compute(t + header.CsumStart, translated.Length - header.CsumStart);
                    BinaryPrimitives.WriteUInt16LittleEndian(translated.AsSpan(header.CsumStart + header.CsumOffset), completed);
                }

                if (!translated.AsSpan().SequenceEqual(whole))
                {
                    failures.Add($"{name} whole:\n  expected {Convert.ToHexString(whole)}\n  actual   {Convert.ToHexString(translated)}");
                }

                int needed = GsoSegmenter.OutputLength(meta[0], frame.Offload.GsoSize, out int count);
                byte* target = output.Place(new byte[needed]);
                var views = new FrameView[GsoSegmenter.MaxSegments];
                Assert.Equal(segments.Length, GsoSegmenter.Segment(frame.Data, meta[0], frame.Offload.GsoSize, target, needed, views));
                for (int s = 0; s < count; s++)
                {
                    byte[] actual = new ReadOnlySpan<byte>(views[s].Data, views[s].Length).ToArray();
                    if (!actual.AsSpan().SequenceEqual(segments[s]))
                    {
                        failures.Add($"{name} segment {s}:\n  expected {Convert.ToHexString(segments[s])}\n  actual   {Convert.ToHexString(actual)}");
                    }
                }
            }
        }

        Assert.Equal(4, cases);
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    private static IEnumerable<(string Name, string Direction, int Mss, byte[] Input, byte[] Whole, byte[][] Segments)> Load()
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Ports", "Segmentation", "gso_translate_cases.py");
        string text = ProcessRunner.Run(Scapy.Python, [script], TimeSpan.FromMinutes(2)).EnsureSuccess().StandardOutput;
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using JsonDocument document = JsonDocument.Parse(line);
            JsonElement root = document.RootElement;
            yield return (
                root.GetProperty("name").GetString()!,
                root.GetProperty("dir").GetString()!,
                root.GetProperty("mss").GetInt32(),
                Convert.FromHexString(root.GetProperty("input").GetString()!),
                Convert.FromHexString(root.GetProperty("whole").GetString()!),
                root.GetProperty("segments").EnumerateArray().Select(s => Convert.FromHexString(s.GetString()!)).ToArray());
        }
    }
}
