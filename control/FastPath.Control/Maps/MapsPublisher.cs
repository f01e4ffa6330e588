using FastPath.Dataplane.Mapping;

namespace FastPath.Control.Maps;

/// <summary>Turns validated maps-file entries into the data plane's mapping table.</summary>
/// <remarks>Thread-safe: stateless; the table's own writer contract applies to what it is given.</remarks>
public static class MapsPublisher
{
    /// <summary>A new table holding exactly <paramref name="entries"/> (already checked by <see cref="MapsFile"/>).</summary>
    public static MappingTable Build(ReadOnlySpan<MappingEntry> entries)
    {
        var table = new MappingTable(entries.Length);
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
    public static void Replace(MappingTable table, ReadOnlySpan<MappingEntry> entries)
    {
        MappingImportResult result = table.Import(entries);
        if (!result.Succeeded)
        {
            string what = result.Status == MappingAddResult.DuplicateUser ? "duplicate user key" : "duplicate secure address";
            throw new InputFileException($"mappings[{result.Index}]: {what}: also mappings[{result.ConflictingIndex}]");
        }
    }
}
