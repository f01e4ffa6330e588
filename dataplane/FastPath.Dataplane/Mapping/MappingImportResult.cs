namespace FastPath.Dataplane.Mapping;

/// <summary>
/// The outcome of an atomic import: <see cref="MappingAddResult.Added"/> when every entry went in, else the
/// refusal, the index of the refused entry and the index of the earlier entry it conflicts with.
/// </summary>
/// <param name="Status">Added, or why <paramref name="Index"/> was refused (the table is then unchanged).</param>
/// <param name="Index">Index of the refused entry in the input; -1 on success.</param>
/// <param name="ConflictingIndex">Index of the earlier input entry holding the same user key or secure address; -1 on success.</param>
public readonly record struct MappingImportResult(MappingAddResult Status, int Index, int ConflictingIndex)
{
    /// <summary>Whether the import replaced the table.</summary>
    public bool Succeeded => Status == MappingAddResult.Added;
}
