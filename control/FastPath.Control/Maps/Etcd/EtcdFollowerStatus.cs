namespace FastPath.Control.Maps.Etcd;

/// <summary>How a daemon follows its fleet's maps (the <c>fleet</c> object of <c>stats --json</c>, the <c>fastpath_maps_*</c> metrics).</summary>
/// <param name="Up">Whether the watch on etcd is live now.</param>
/// <param name="Revision">The etcd revision the table holds (every change up to it applied).</param>
/// <param name="HeadRevision">etcd's newest revision as last seen.</param>
/// <param name="Generation">The generation followed.</param>
/// <param name="Endpoint">The member in use.</param>
/// <param name="ClusterId">The cluster followed (0 before the first answer).</param>
/// <param name="Reconnects">Times the watch was re-established after a failure.</param>
/// <param name="Snapshots">Whole-table loads (start, compaction, import).</param>
/// <param name="Malformed">Keys skipped because their value or name is not a mapping.</param>
/// <param name="Applied">Watch events applied.</param>
/// <param name="LastError">The last failure, or null.</param>
/// <param name="Refused">Why the daemon stopped following (a changed cluster id), or null.</param>
/// <remarks>Immutable.</remarks>
public sealed record EtcdFollowerStatus(bool Up, long Revision, long HeadRevision, string Generation, string Endpoint, ulong ClusterId,
    long Reconnects, long Snapshots, long Malformed, long Applied, string? LastError, string? Refused)
{
    /// <summary>Revisions etcd is ahead of the table.</summary>
    public long Lag => Math.Max(0, HeadRevision - Revision);
}
