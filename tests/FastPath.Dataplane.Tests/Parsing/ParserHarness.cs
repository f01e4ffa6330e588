using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Tests.Infrastructure;

namespace FastPath.Dataplane.Tests.Parsing;

/// <summary>Runs the parser on test frames, the single-frame cases flush against a PROT_NONE page.</summary>
/// <remarks>Not thread-safe: each test owns its <see cref="GuardedFrames"/>.</remarks>
internal static unsafe class ParserHarness
{
    /// <summary>
    /// Every vector path, forced whether or not this CPU accelerates it: an unaccelerated width runs the same code on
    /// the runtime's software vectors, so its semantics are checked even on a machine without AVX-512 (or with the
    /// test.sh knobs switching widths off), and the accelerated widths are checked in hardware.
    /// </summary>
    public static IReadOnlyList<ParserPath> VectorPaths { get; } = [ParserPath.Vector128, ParserPath.Vector256, ParserPath.Vector512];

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
