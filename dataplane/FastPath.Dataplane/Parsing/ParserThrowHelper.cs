using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace FastPath.Dataplane.Parsing;

/// <summary>The parser's cold paths, out of line so the batch loops stay small.</summary>
/// <remarks>Thread-safe: stateless.</remarks>
internal static class ParserThrowHelper
{
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowMetaTooShort(int frames, int meta) =>
        throw new ArgumentException($"metadata span holds {meta} records but the batch has {frames} frames", "meta");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowUnknownPath(ParserPath path) =>
        throw new ArgumentOutOfRangeException(nameof(path), path, "not a parser path");
}
