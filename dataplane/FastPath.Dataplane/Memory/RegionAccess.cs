namespace FastPath.Dataplane.Memory;

/// <summary>What a view of a <see cref="GuardedRegion"/> may do with one segment.</summary>
internal enum RegionAccess
{
    /// <summary>Not mapped at all: the view keeps the PROT_NONE reservation, so any touch faults.</summary>
    None = 0,

    /// <summary>PROT_READ.</summary>
    Read = 1,

    /// <summary>PROT_READ | PROT_WRITE.</summary>
    ReadWrite = 3,
}
