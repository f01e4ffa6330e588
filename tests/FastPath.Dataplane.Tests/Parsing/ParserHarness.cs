using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Tests.Infrastructure;

namespace FastPath.Dataplane.Tests.Parsing;

/// <summary>Runs the parser on test frames, the single-frame cases flush against a PROT_NONE page.</summary>
/// <remarks>Not thread-safe: each test owns its <see cref="GuardedFrames"/>.</remarks>
internal static unsafe class ParserHarness
{
    /// <summary>The paths a test forces: scalar plus every vector width this CPU (and the runtime's knobs) accelerates.</summary>
    public static IReadOnlyList<ParserPath> AcceleratedPaths { get; } = Enum.GetValues<ParserPath>().Where(p => p <= HeaderParser.Best).ToArray();

    public static PacketMeta Parse(GuardedFrames guard, ReadOnlySpan<byte> frame, ParserPath path = ParserPath.Scalar)
    {
        byte* start = guard.Place(frame);
        ReadOnlySpan<FrameView> frames = [new FrameView(start, frame.Length)];
        Span<PacketMeta> meta = stackalloc PacketMeta[1];
        HeaderParser.Parse(path, frames, meta);
        return meta[0];
    }

    public static PacketMeta Parse(ReadOnlySpan<byte> frame, ParserPath path = ParserPath.Scalar)
    {
        using var guard = new GuardedFrames(frame.Length);
        return Parse(guard, frame, path);
    }
}
