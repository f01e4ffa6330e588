using System.Runtime.Intrinsics;

namespace FastPath.Dataplane.Parsing;

/// <summary>
/// The batch header parser: fills one <see cref="PacketMeta"/> per frame with layer offsets, the fields the
/// mapping table and the rewriter need, and a verdict. Never allocates, throws or reads outside a frame.
/// </summary>
/// <remarks>
/// Thread-safe: stateless; concurrent calls must not share a <c>meta</c> span. The implementation is chosen once
/// per batch (<see cref="Best"/>), never per packet, because <c>IsHardwareAccelerated</c> is not a constant under
/// NativeAOT.
/// </remarks>
public static unsafe partial class HeaderParser
{
    /// <summary>The widest path this CPU accelerates; what <see cref="Parse(ReadOnlySpan{FrameView}, Span{PacketMeta})"/> runs.</summary>
    public static ParserPath Best { get; } = DetectBest();

    /// <summary>Parses <paramref name="frames"/> into the first <c>frames.Length</c> records of <paramref name="meta"/> with <see cref="Best"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="meta"/> is shorter than <paramref name="frames"/>.</exception>
    public static void Parse(ReadOnlySpan<FrameView> frames, Span<PacketMeta> meta) => Parse(Best, frames, meta);

    /// <summary>Parses with a chosen path; every path yields identical records (a path the CPU lacks runs in software, slowly).</summary>
    /// <exception cref="ArgumentException"><paramref name="meta"/> is shorter than <paramref name="frames"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="path"/> is not a <see cref="ParserPath"/>.</exception>
    public static void Parse(ParserPath path, ReadOnlySpan<FrameView> frames, Span<PacketMeta> meta)
    {
        if (meta.Length < frames.Length)
        {
            ParserThrowHelper.ThrowMetaTooShort(frames.Length, meta.Length);
        }

        switch (path)
        {
            case ParserPath.Scalar:
                ParseScalar(frames, meta);
                break;
            case ParserPath.Vector128:
                ParseVector<Vector128Kernel>(frames, meta);
                break;
            case ParserPath.Vector256:
                ParseVector<Vector256Kernel>(frames, meta);
                break;
            case ParserPath.Vector512:
                ParseVector<Vector512Kernel>(frames, meta);
                break;
            default:
                ParserThrowHelper.ThrowUnknownPath(path);
                break;
        }
    }

    /// <summary>Parses one frame held in managed memory, for tools (<c>fastpath inspect</c>) rather than the per-batch hot path.</summary>
    public static PacketMeta ParseOne(ReadOnlySpan<byte> frame)
    {
        PacketMeta meta = default;
        fixed (byte* data = frame)
        {
            ReadOnlySpan<FrameView> frames = [new FrameView(data, frame.Length)];
            Parse(frames, new Span<PacketMeta>(ref meta));
        }

        return meta;
    }

    private static ParserPath DetectBest() =>
        Vector512.IsHardwareAccelerated ? ParserPath.Vector512
        : Vector256.IsHardwareAccelerated ? ParserPath.Vector256
        : Vector128.IsHardwareAccelerated ? ParserPath.Vector128
        : ParserPath.Scalar;
}
