namespace FastPath.Dataplane.Mapping;

/// <summary>
/// The 1:1 map (tenant, user address) ↔ secure address that the isolated core consults for every packet:
/// SwissTable-style buckets of one cache line, a keyed hash, and two-stage bulk lookups.
/// </summary>
/// <remarks>
/// Concurrency: any number of reader threads look up at any time without locks or retries; writer methods
/// (<see cref="Add"/>, <see cref="Remove"/>, <see cref="Import"/>, …) serialise on an internal lock, so one
/// runs at a time. Single adds and removes change the live table in place (slot publish order plus a
/// per-entry version, see <see cref="MappingStore"/>); growth, tombstone purges and imports build a new
/// table, swap it in with one reference store, and free the old one after every reader registered with
/// <see cref="Epoch"/> has passed a quiescent point. Threads that look up while a writer may run must be
/// registered readers that call <see cref="MappingEpoch.Quiescent"/> between batches.
/// </remarks>
public sealed partial class MappingTable : IDisposable
{
    private readonly object _writerLock = new();
    private readonly KeyedHash _hash;

    // The capacity the owner asked for; imports never build a smaller table, so a table sized for 16M
    // keeps its buckets (and its lookup cost profile) across reloads of a smaller maps file.
    private readonly int _minimumCapacity;

    // The live generation. Readers load it once per call (acquire, pairs with the writer's release swap).
    private MappingStore? _store;
    private int _rebuilds;

    /// <summary>A table with room for <paramref name="initialCapacity"/> mappings before its first growth.</summary>
    /// <param name="initialCapacity">Mappings to size for (0 for a small table that grows).</param>
    /// <param name="epoch">The reader epoch shared with the workers; a new one when null.</param>
    public MappingTable(int initialCapacity = 0, MappingEpoch? epoch = null)
        : this(initialCapacity, epoch, KeyedHash.Process)
    {
    }

    internal MappingTable(int initialCapacity, MappingEpoch? epoch, KeyedHash hash)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(initialCapacity);
        _hash = hash;
        _minimumCapacity = initialCapacity;
        Epoch = epoch ?? new MappingEpoch();
        _store = new MappingStore(MappingStore.BucketsFor(initialCapacity), hash);
    }

    /// <summary>Readers register here and announce quiescent points; the writer waits on it before freeing a swapped-out table.</summary>
    public MappingEpoch Epoch { get; }

    /// <summary>Live mappings (a snapshot; exact when read by the writer).</summary>
    public int Count => Current.Count;

    /// <summary>Mappings the table takes before it grows.</summary>
    public int Capacity => Current.Capacity;

    internal MappingStore Current => Volatile.Read(ref _store) ?? throw new ObjectDisposedException(nameof(MappingTable));

    /// <summary>Frees the native memory. No reader may look up after this.</summary>
    public void Dispose()
    {
        lock (_writerLock)
        {
            MappingStore? store = Interlocked.Exchange(ref _store, null);
            if (store is not null)
            {
                Epoch.Synchronize();
                store.Dispose();
            }
        }
    }
}
