using FastPath.Dataplane.Mapping;

namespace FastPath.Control.Maps;

/// <summary>Turns validated maps-file entries into the data plane's mapping table.</summary>
/// <remarks>Thread-safe: stateless; the table's own writer contract applies to what it is given.</remarks>
public static class MapsPublisher
{
    /// <summary>A new table holding exactly <paramref name="entries"/> (already checked by <see cref="MapsFile"/>).</summary>
    public static MappingTable Build(IReadOnlyList<MapEntry> entries)
    {
        var table = new MappingTable(entries.Count);
        try
        {
            Replace(table, entries);
            return table;
        }
        catch
        {
            table.Dispose();
            throw;
        }
    }

    /// <summary>Replaces every mapping of <paramref name="table"/> atomically: readers see the old or the new set, never a mix.</summary>
    /// <exception cref="InputFileException">Two entries conflict (the file checker normally catches this first).</exception>
    public static void Replace(MappingTable table, IReadOnlyList<MapEntry> entries)
    {
        var converted = new MappingEntry[entries.Count];
        for (int i = 0; i < converted.Length; i++)
        {
            MapEntry entry = entries[i];
            converted[i] = MappingEntry.Create(entry.Tenant, entry.User, entry.Secure);
        }

        MappingImportResult result = table.Import(converted);
        if (!result.Succeeded)
        {
            string what = result.Status == MappingAddResult.DuplicateUser ? "duplicate user key" : "duplicate secure address";
            throw new InputFileException($"mappings[{result.Index}]: {what}: also mappings[{result.ConflictingIndex}]");
        }
    }
}
