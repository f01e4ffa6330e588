namespace FastPath.Dataplane.Mapping;

/// <summary>
/// Which direction a lookup runs: a strategy struct (R's pattern) so each direction gets its own
/// specialised code with no interface dispatch at run time.
/// </summary>
/// <remarks>Stateless; implementations are thread-safe.</remarks>
internal unsafe interface IMappingSide
{
    /// <summary>True for (tenant, user address) → secure, false for secure → (tenant, user address).</summary>
    static abstract bool IsUser { get; }

    /// <summary>The key word that enters the hash (a secure key's tenant is ignored).</summary>
    static abstract uint HashMeta(uint keyMeta);

    /// <summary>
    /// Reads the entry under its version, and when it holds <paramref name="key"/> on this side writes the
    /// other side to <paramref name="result"/> and returns true; false (result untouched) otherwise.
    /// </summary>
    static abstract bool Match(byte* entry, in MappingKey key, ref MappingResult result);
}
