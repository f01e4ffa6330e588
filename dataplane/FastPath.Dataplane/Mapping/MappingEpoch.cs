using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Mapping;

/// <summary>
/// Quiescent-state reclamation for the mapping table: each worker announces once per batch that it holds
/// no pointer into any table, and the writer waits until every online worker has done so after a swap
/// before it frees the old table (G's LightEpoch, reduced to what one writer and a few workers need).
/// </summary>
/// <remarks>
/// Concurrency: <see cref="Quiescent"/>, <see cref="ReaderEnter"/> and <see cref="ReaderExit"/> are called
/// by the owning worker only and never block (one load of the global epoch, one store to the worker's own
/// cache line); <see cref="RegisterReader"/> and <see cref="UnregisterReader"/> may be called from any
/// thread; <see cref="Synchronize"/> is called by the writer and blocks until every online reader has
/// passed a quiescent point. A reader that goes idle calls <see cref="ReaderExit"/> so it holds nobody up.
/// </remarks>
public sealed class MappingEpoch
{
    /// <summary>Most readers one epoch tracks; a worker per core on the machines FastPath targets.</summary>
    public const int MaxReaders = 64;

    // Slot value: Offline (not reading), or the global epoch the reader saw at its last quiescent point.
    private const long Offline = 0;

    // Each reader slot on its own 128-byte stride: the adjacent-line prefetcher pulls line pairs, so 64
    // bytes apart would still share traffic between two workers.
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct ReaderSlot
    {
        [FieldOffset(0)]
        public long Seen;

        [FieldOffset(8)]
        public int Registered;
    }

    private readonly ReaderSlot[] _slots = new ReaderSlot[MaxReaders];

    // Starts at 1 so that Offline (0) is never a real epoch.
    private long _global = 1;

    /// <summary>Takes a reader slot and puts the reader online; returns its id for the other calls.</summary>
    /// <exception cref="InvalidOperationException">All <see cref="MaxReaders"/> slots are taken.</exception>
    public int RegisterReader()
    {
        for (int i = 0; i < MaxReaders; i++)
        {
            if (Interlocked.CompareExchange(ref _slots[i].Registered, 1, 0) == 0)
            {
                ReaderEnter(i);
                return i;
            }
        }

        MappingThrowHelper.ThrowTooManyReaders(MaxReaders);
        return -1;
    }

    /// <summary>Puts the reader offline and frees its slot.</summary>
    public void UnregisterReader(int reader)
    {
        ReaderExit(reader);
        Volatile.Write(ref Slot(reader).Registered, 0);
    }

    /// <summary>The reader is about to look up again after <see cref="ReaderExit"/>.</summary>
    public void ReaderEnter(int reader) => Quiescent(reader);

    /// <summary>
    /// The reader holds no pointer into any mapping table (call between batches). Loads it makes after
    /// this call see every table the writer swapped in before the epoch it announces.
    /// </summary>
    public void Quiescent(int reader)
    {
        ref ReaderSlot slot = ref Slot(reader);

        // Q1 (acquire) pairs with S1: seeing epoch e means the swap that preceded the bump to e is visible
        // to this reader's later loads of the table pointer.
        long epoch = Volatile.Read(ref _global);

        // Q2 (release) pairs with S2: the reader's loads from the old table are complete before the writer
        // can see this announcement and free it.
        Volatile.Write(ref slot.Seen, epoch);
    }

    /// <summary>The reader goes idle: the writer no longer waits for it. It must not look up until <see cref="ReaderEnter"/>.</summary>
    public void ReaderExit(int reader) => Volatile.Write(ref Slot(reader).Seen, Offline);

    /// <summary>
    /// Writer: returns once every reader that was online has passed a quiescent point (or gone offline)
    /// after this call began, so nothing published before the call is still in use by a reader.
    /// </summary>
    public void Synchronize()
    {
        // S1: a full fence; the table swap the caller made before this call is visible before the new epoch.
        long target = Interlocked.Increment(ref _global);
        for (int i = 0; i < MaxReaders; i++)
        {
            ref ReaderSlot slot = ref _slots[i];
            var spin = default(SpinWait);

            // S2 (acquire) pairs with Q2.
            long seen;
            while ((seen = Volatile.Read(ref slot.Seen)) != Offline && seen < target)
            {
                spin.SpinOnce();
            }
        }
    }

    /// <summary>Readers registered now (for stats and tests).</summary>
    public int ReaderCount
    {
        get
        {
            int count = 0;
            for (int i = 0; i < MaxReaders; i++)
            {
                count += Volatile.Read(ref _slots[i].Registered);
            }

            return count;
        }
    }

    private ref ReaderSlot Slot(int reader)
    {
        if ((uint)reader >= MaxReaders || Volatile.Read(ref _slots[reader].Registered) == 0)
        {
            MappingThrowHelper.ThrowBadReader(reader);
        }

        return ref _slots[reader];
    }
}
