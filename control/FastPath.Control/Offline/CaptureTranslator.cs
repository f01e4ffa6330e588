using System.Text.Json;
using FastPath.Control.Maps;
using FastPath.Dataplane;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Control.Offline;

/// <summary>
/// <c>fastpath translate</c>: runs a capture through the same translation stage the workers run (parse batch,
/// bulk lookup, rewrite) and writes the kept packets, in order, in the input's format.
/// </summary>
/// <remarks>
/// Packets are copied into a pinned arena in batches of up to <see cref="BatchSize"/>, each with headroom for a
/// VLAN push, because the capture reader maps the input file read-only. MACs are kept as they were
/// (ARCHITECTURE.md: offline translation has no egress port). Not thread-safe: one call, one file pair.
/// </remarks>
public static unsafe class CaptureTranslator
{
    /// <summary>Packets handed to the translation stage at once, like one worker RX burst.</summary>
    public const int BatchSize = 256;

    // 64 bytes in front of every packet keep the VLAN push inside the arena and each packet cache-line aligned.
    private const int Headroom = 64;
    private const int ArenaBytes = 4 << 20;

    /// <summary>Translates <paramref name="input"/> into <paramref name="output"/>; returns the count per verdict.</summary>
    /// <exception cref="CaptureFileException">The input is malformed; packets before the bad record were written.</exception>
    public static TranslationCounts Run(MappingEntry[] maps, TranslationDirection direction, string input, string output)
    {
        using MappingTable table = MapsPublisher.Build(maps);
        using CaptureReader reader = CaptureReader.Open(input);
        using CaptureWriter writer = CaptureWriter.Create(output, reader.Format with { SnapLength = CaptureFormat.MaxSnapLength });
        var stage = new TranslationStage(table, direction, egress: null);
        var counts = new TranslationCounts();

        // The arena must hold the largest record the reader accepts, plus headroom and alignment.
        byte[] arena = GC.AllocateUninitializedArray<byte>(Math.Max(ArenaBytes, CaptureFormat.MaxSnapLength + 2 * Headroom), pinned: true);
        var frames = new FrameView[BatchSize];
        var meta = new PacketMeta[BatchSize];
        var timestamps = new long[BatchSize];
        var originalLengths = new int[BatchSize];
        fixed (byte* arenaStart = arena)
        {
            int count = 0;
            int used = 0;
            while (reader.TryReadNext(out CapturedPacket packet))
            {
                int need = Headroom + packet.Data.Length;
                if (count == BatchSize || used + need > arena.Length)
                {
                    Flush(stage, frames.AsSpan(0, count), meta.AsSpan(0, count), timestamps, originalLengths, writer, counts);
                    count = 0;
                    used = 0;
                }

                byte* start = arenaStart + used + Headroom;
                packet.Data.CopyTo(new Span<byte>(start, packet.Data.Length));
                frames[count] = new FrameView(start, packet.Data.Length);
                timestamps[count] = packet.TimestampNanoseconds;
                originalLengths[count] = packet.OriginalLength;
                count++;
                used += (need + 63) & ~63;
            }

            Flush(stage, frames.AsSpan(0, count), meta.AsSpan(0, count), timestamps, originalLengths, writer, counts);
        }

        writer.Flush();
        return counts;
    }

    /// <summary>Writes the counts as one line: text (<c>ok=5 no-mapping=1 …</c>) or one JSON object.</summary>
    public static void Report(TranslationCounts counts, bool json, TextWriter output)
    {
        if (json)
        {
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteNumber("packets", counts.Total);
                writer.WriteNumber("written", counts[DropReason.None]);
                writer.WriteStartObject("verdicts");
                foreach (DropReason reason in DropReasons.All)
                {
                    writer.WriteNumber(DropReasons.Name(reason), counts[reason]);
                }

                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            return;
        }

        var parts = new List<string> { $"packets={counts.Total}" };
        foreach (DropReason reason in DropReasons.All)
        {
            if (counts[reason] != 0 || reason == DropReason.None)
            {
                parts.Add($"{DropReasons.Name(reason)}={counts[reason]}");
            }
        }

        output.WriteLine(string.Join(' ', parts));
    }

    private static void Flush(TranslationStage stage, Span<FrameView> frames, Span<PacketMeta> meta, long[] timestamps, int[] originalLengths,
        CaptureWriter writer, TranslationCounts counts)
    {
        if (frames.IsEmpty)
        {
            return;
        }

        stage.Process(frames, meta);
        for (int i = 0; i < frames.Length; i++)
        {
            DropReason verdict = meta[i].Verdict;
            counts.Add(verdict);
            if (verdict == DropReason.None)
            {
                FrameView frame = frames[i];
                writer.Write(new ReadOnlySpan<byte>(frame.Data, frame.Length), timestamps[i], frame.Length);
            }
        }
    }
}
