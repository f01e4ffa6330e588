namespace FastPath.Dataplane.Mapping;

/// <summary>Occupancy of a mapping table at one moment, as the writer sees it.</summary>
/// <param name="Count">Live mappings.</param>
/// <param name="Capacity">Mappings the current buckets take before the table grows (7/8 of the slots).</param>
/// <param name="Buckets">Buckets per direction (a power of two); each is one 64-byte line of 12 slots.</param>
/// <param name="Tombstones">Deleted slots still marked in full buckets, both directions together.</param>
/// <param name="ReservedBytes">Virtual memory reserved for entries and buckets; pages are touched only as entries arrive.</param>
/// <param name="TouchedBytes">Bytes of entries ever used plus both bucket arrays: the resident size once written.</param>
/// <param name="Rebuilds">Times the writer built and swapped in a new table (growth, tombstone purge, import).</param>
public readonly record struct MappingTableStats(
    int Count, int Capacity, int Buckets, int Tombstones, long ReservedBytes, long TouchedBytes, int Rebuilds)
{
    /// <summary>Resident bytes per live mapping (entries plus both directions' buckets).</summary>
    public double BytesPerEntry => Count == 0 ? 0 : (double)TouchedBytes / Count;
}
