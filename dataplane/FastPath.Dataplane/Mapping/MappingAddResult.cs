namespace FastPath.Dataplane.Mapping;

/// <summary>What the writer did with one mapping; the two refusals keep the table 1:1.</summary>
public enum MappingAddResult
{
    /// <summary>The mapping was added.</summary>
    Added,

    /// <summary>Refused: the (tenant, user address) already has a mapping.</summary>
    DuplicateUser,

    /// <summary>Refused: the secure address already belongs to a mapping (of any tenant).</summary>
    DuplicateSecure,
}
