using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace FastPath.Dataplane.Ports;

/// <summary>Cold throw paths of the ports, out of line so the batch loops stay small.</summary>
/// <remarks>Thread-safe: stateless.</remarks>
internal static class PortThrowHelper
{
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowFramesShorterThanBuffers() =>
        throw new ArgumentException("the frames span must be at least as long as the buffers span", "frames");
}
