namespace FastPath.Dataplane.Mapping;

/// <summary>
/// Byte layout of one entry in the table's native entry store: one 64-byte cache line per mapping, so
/// resolving a tag match costs one miss whichever direction the lookup runs.
/// </summary>
/// <remarks>
/// Concurrency: the writer changes an entry only while no bucket slot points at it (before it is
/// published, after it is unpublished), and brackets every change with the version word (odd while
/// changing). A reader that reached the entry through a stale slot sees either an odd or changed version,
/// or a family of 0, and treats the slot as not matching: it never retries and never sees a torn entry.
/// <code>
///  0 version (uint)   4 tenant (ushort)  6 family (byte, 0 = free)  7 reserved (0)
///  8 user address (16 bytes)  24 secure address (16 bytes)  40 unused  56 free-list link (writer only)
/// </code>
/// 40 bytes would do, but at 40 bytes half the entries straddle two lines (two misses); 64 bytes costs
/// 24 bytes of address space per mapping, and untouched pages of the store are never faulted in.
/// </remarks>
internal static class MappingEntryLayout
{
    internal const int Size = 64;
    internal const int Version = 0;
    internal const int Meta = 4;
    internal const int User = 8;
    internal const int Secure = 24;
    internal const int FreeLink = 56;
}
