using FastPath.Dataplane;

namespace FastPath.Control.Offline;

/// <summary>Packets per verdict of one offline translation. Not thread-safe.</summary>
public sealed class TranslationCounts
{
    private readonly long[] _counts = new long[DropReasons.Count];

    /// <summary>Packets with verdict <paramref name="reason"/> (<see cref="DropReason.None"/>: translated and written).</summary>
    public long this[DropReason reason] => _counts[(int)reason];

    /// <summary>All packets read.</summary>
    public long Total { get; private set; }

    internal void Add(DropReason reason)
    {
        _counts[(int)reason]++;
        Total++;
    }
}
