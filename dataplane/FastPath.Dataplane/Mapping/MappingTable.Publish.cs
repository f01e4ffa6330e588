using System.Runtime.CompilerServices;

namespace FastPath.Dataplane.Mapping;

public sealed partial class MappingTable
{
    /// <summary>Adds one mapping, refusing it when its user key or its secure address is already mapped.</summary>
    /// <exception cref="ArgumentException">The entry is malformed (families differ, tenant out of range, …).</exception>
    public MappingAddResult Add(in MappingEntry entry) => Add(in entry, out _);

    /// <summary>Adds one mapping; on refusal <paramref name="existing"/> is the mapping it conflicts with.</summary>
    /// <exception cref="ArgumentException">The entry is malformed (families differ, tenant out of range, …).</exception>
    public MappingAddResult Add(in MappingEntry entry, out MappingEntry existing)
    {
        entry.Validate();
        lock (_writerLock)
        {
            MappingStore store = Current;
            if (!store.HasRoomForOne)
            {
                store = RebuildUnsynchronized(store, store.Count + 1);
            }

            MappingAddResult result = store.TryAddUnsynchronized(in entry, out uint index);
            existing = result == MappingAddResult.Added ? entry : store.EntryUnsynchronized(index);
            return result;
        }
    }

    /// <summary>Removes the mapping of (tenant, user address); false when there is none.</summary>
    public bool Remove(in MappingKey user)
    {
        lock (_writerLock)
        {
            return Current.RemoveUnsynchronized<UserSide>(in user);
        }
    }

    /// <summary>Removes the mapping that owns a secure address; false when there is none.</summary>
    public bool RemoveSecure(in MappingKey secure)
    {
        lock (_writerLock)
        {
            return Current.RemoveUnsynchronized<SecureSide>(in secure);
        }
    }

    /// <summary>
    /// Replaces the whole table with <paramref name="entries"/> atomically: readers see the old set or the
    /// new one, never a mix. On a duplicate the table is left unchanged and the result names both entries.
    /// Returns after the old table is freed (every registered reader has passed a quiescent point).
    /// </summary>
    /// <exception cref="ArgumentException">An entry is malformed; the message names its index.</exception>
    public MappingImportResult Import(ReadOnlySpan<MappingEntry> entries)
    {
        for (int i = 0; i < entries.Length; i++)
        {
            ValidateAt(entries[i], i);
        }

        lock (_writerLock)
        {
            var next = new MappingStore(MappingStore.BucketsFor(Math.Max(entries.Length, _minimumCapacity)), _hash);
            for (int i = 0; i < entries.Length; i++)
            {
                // A fresh store hands out entry indices 0, 1, 2, … in insert order, so the index of the
                // conflicting entry is its position in the input.
                MappingAddResult result = next.TryAddUnsynchronized(in entries[i], out uint conflict);
                if (result != MappingAddResult.Added)
                {
                    next.Dispose();
                    return new MappingImportResult(result, i, (int)conflict);
                }
            }

            Publish(next);
            return new MappingImportResult(MappingAddResult.Added, -1, -1);
        }
    }

    /// <summary>Every live mapping, in no particular order (writer side; allocates).</summary>
    public List<MappingEntry> ToList()
    {
        lock (_writerLock)
        {
            var list = new List<MappingEntry>(Current.Count);
            Current.CopyEntriesUnsynchronized(list);
            return list;
        }
    }

    /// <summary>Occupancy and memory of the live table.</summary>
    public MappingTableStats GetStats()
    {
        lock (_writerLock)
        {
            MappingStore store = Current;
            return new MappingTableStats(store.Count, store.Capacity, store.Buckets, store.ForwardTombstones + store.ReverseTombstones,
                store.ReservedBytes, store.TouchedBytes, _rebuilds);
        }
    }

    // Growth when more than half the capacity is live, otherwise a same-size rebuild that drops tombstones.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private MappingStore RebuildUnsynchronized(MappingStore store, int needed)
    {
        long target = (long)needed * 2 > store.Capacity ? 2L * store.Capacity : store.Capacity;
        var next = new MappingStore(MappingStore.BucketsFor(Math.Max(target, needed)), _hash);
        store.CopyLiveEntriesTo(next);
        Publish(next);
        return next;
    }

    private void Publish(MappingStore next)
    {
        // Release store: the new table is complete before any reader can load it.
        MappingStore? old = Interlocked.Exchange(ref _store, next);
        _rebuilds++;
        Epoch.Synchronize();
        old?.Dispose();
    }

    private static void ValidateAt(in MappingEntry entry, int index)
    {
        try
        {
            entry.Validate();
        }
        catch (ArgumentException error)
        {
            throw new ArgumentException($"entry {index}: {error.Message}", error);
        }
    }
}
