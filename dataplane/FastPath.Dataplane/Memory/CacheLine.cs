namespace FastPath.Dataplane.Memory;

/// <summary>The coherence unit that separates data written by different cores.</summary>
/// <remarks>
/// Stateless; safe from any thread. 64 bytes on every x86-64 and most Arm64 cores this runs on: two
/// cursors written by different cores must never share one, or each write invalidates the other core's
/// copy (false sharing). Intel and AMD also prefetch the adjacent line of a 128-byte pair, which is why
/// <see cref="Rings.RingCursors"/> pads each side to a whole pair rather than to one line.
/// </remarks>
internal static class CacheLine
{
    internal const int Size = 64;

    /// <summary>Adjacent-line prefetch fetches 128-byte aligned pairs; data of different writers stays in different pairs.</summary>
    internal const int PrefetchPair = 2 * Size;
}
