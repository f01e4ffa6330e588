namespace FastPath.Control.Maps.Etcd;

/// <summary>What a write to the fleet's maps did.</summary>
public enum EtcdWriteStatus
{
    /// <summary>Written; <see cref="EtcdWriteResult.Revision"/> is its etcd revision.</summary>
    Done,

    /// <summary>Refused: it would break the 1:1 mapping (the message names the mapping in the way).</summary>
    Conflict,

    /// <summary>Nothing to delete.</summary>
    NotFound,
}

/// <summary>The outcome of one write: status, the revision it became (when done), and the reason (when not).</summary>
/// <remarks>Immutable.</remarks>
public readonly record struct EtcdWriteResult(EtcdWriteStatus Status, long Revision, string Message, long Count = 0);
