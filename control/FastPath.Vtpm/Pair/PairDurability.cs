namespace FastPath.Vtpm.Pair;

/// <summary>When the pair acknowledges a state change. While only one instance is live, every change is
/// on that instance's disk before it is acknowledged, in either mode.</summary>
public enum PairDurability
{
    /// <summary>Acknowledged once both live instances applied it; each instance starts writing it to disk at
    /// once (group commit) without holding the answer.</summary>
    Pair,

    /// <summary>Acknowledged only once both live instances have it on disk (group-committed across clients).</summary>
    Sync,
}
