using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using FastPath.Dataplane.Interop;

namespace FastPath.Dataplane.Mapping;

/// <summary>
/// One generation of the mapping table: an entry store and two open-addressed bucket arrays (user key →
/// entry, secure address → entry) in one anonymous mapping of native memory.
/// </summary>
/// <remarks>
/// Concurrency: any number of readers run the lookup methods at any time; one writer at a time (the
/// <see cref="MappingTable"/> writer lock) runs the <c>Unsynchronized</c> methods. A slot is published by
/// writing its entry index, then its tag (release); a reader takes a tag match only as a hint and checks
/// the whole key against the entry under the entry's version (see <see cref="MappingEntryLayout"/>), so a
/// slot caught mid-change reads as "not this slot". Slots never go back to empty in a bucket that was ever
/// full, so a reader that stops at a bucket with an empty slot is right to report a miss.
/// <code>
///  [forward buckets: B × 64 B][reverse buckets: B × 64 B][entries: Capacity × 64 B]
///  bucket: 12 tags | 4 reserved | 12 × uint entry index     probe: triangular over buckets
/// </code>
/// </remarks>
internal sealed unsafe partial class MappingStore : IDisposable
{
    /// <summary>Bytes per bucket: one cache line, asserted by a test.</summary>
    internal const int BucketSize = 64;

    /// <summary>Offset of the entry-index array in a bucket (after 12 tags and 4 reserved bytes).</summary>
    internal const int SlotIndexOffset = 16;

    /// <summary>Largest table: entry indices are uint, and 2^28 entries of 64 B is 16 GiB of address space.</summary>
    internal const int MaxEntries = 1 << 28;

    /// <summary>Most keys resolved per pass of the bulk stages: a worker's whole default batch (64 buckets + 64 entries
    /// in flight, 8 KiB, inside L1).</summary>
    /// <remarks>At 32 a pass was too short to hide a DRAM miss: the second pass stalled on buckets prefetched a few
    /// keys earlier, and lookups at 1M mappings cost twice those at 1K (bench/RESULTS.md, issue 18).</remarks>
    internal const int BulkChunk = 64;

    private const uint NoFreeEntry = uint.MaxValue;

    private readonly byte* _memory;
    private readonly nuint _length;
    private readonly byte* _forward;
    private readonly byte* _reverse;
    private readonly byte* _entries;
    private readonly uint _bucketMask;
    private readonly KeyedHash _hash;

    // Writer state (touched under the writer lock only).
    private int _highWater;
    private uint _freeHead = NoFreeEntry;
    private int _forwardGrowthLeft;
    private int _reverseGrowthLeft;
    private bool _disposed;

    internal MappingStore(int buckets, KeyedHash hash)
    {
        if (buckets < 2 || !BitOperations.IsPow2(buckets) || CapacityFor(buckets) > MaxEntries)
        {
            MappingThrowHelper.ThrowCapacity(CapacityFor(buckets));
        }

        Buckets = buckets;
        Capacity = (int)CapacityFor(buckets);
        _bucketMask = (uint)buckets - 1;
        _hash = hash;
        _forwardGrowthLeft = Capacity;
        _reverseGrowthLeft = Capacity;

        nuint bucketBytes = (nuint)buckets * BucketSize;
        _length = (2 * bucketBytes) + ((nuint)Capacity * MappingEntryLayout.Size);

        // Anonymous private memory: zero-filled (all tags Empty), page-aligned (so every bucket and entry
        // is one aligned line), never moved by the GC, and faulted in only where written — a table sized
        // for 16M entries costs only what it holds. NORESERVE keeps large reservations from failing on
        // strict overcommit accounting.
        void* memory = Libc.Mmap(null, _length, LinuxConstants.ProtRead | LinuxConstants.ProtWrite,
            LinuxConstants.MapPrivate | LinuxConstants.MapAnonymous | LinuxConstants.MapNoReserve, -1, 0);
        if (memory == (void*)-1)
        {
            Errno.Throw("mmap", $"{_length} bytes for a mapping table of {Capacity} entries");
        }

        // Transparent huge pages cut TLB misses at 1M+ entries. Advice only: a kernel with THP off
        // answers EINVAL and the table works the same on 4 KiB pages, so the result is not checked.
        _ = Libc.Madvise(memory, _length, LinuxConstants.MadvHugePage);

        _memory = (byte*)memory;
        _forward = _memory;
        _reverse = _memory + bucketBytes;
        _entries = _memory + (2 * bucketBytes);
    }

    internal int Buckets { get; }

    /// <summary>Entries this generation takes: 7/8 of its slots, the SwissTable load limit.</summary>
    internal int Capacity { get; }

    internal int Count { get; private set; }

    internal int ForwardTombstones { get; private set; }

    internal int ReverseTombstones { get; private set; }

    internal KeyedHash Hash => _hash;

    internal long ReservedBytes => (long)_length;

    internal long TouchedBytes => (2L * Buckets * BucketSize) + ((long)_highWater * MappingEntryLayout.Size);

    /// <summary>Whether one more insert fits without a rebuild (entries and empty slots in both directions).</summary>
    internal bool HasRoomForOne => Count < Capacity && _forwardGrowthLeft > 0 && _reverseGrowthLeft > 0;

    internal static long CapacityFor(long buckets) => buckets * TagGroup.Slots * 7 / 8;

    /// <summary>The smallest power-of-two bucket count whose capacity holds <paramref name="entries"/>.</summary>
    internal static int BucketsFor(long entries)
    {
        if (entries > MaxEntries)
        {
            MappingThrowHelper.ThrowCapacity(entries);
        }

        long buckets = 2;
        while (CapacityFor(buckets) < entries)
        {
            buckets *= 2;
        }

        return (int)buckets;
    }

    // ---- Readers ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool Find<TSide>(in MappingKey key, ref MappingResult result)
        where TSide : struct, IMappingSide
    {
        ulong hash = _hash.Hash(key.Low, key.High, TSide.HashMeta(key.Meta));
        return Probe<TSide>(in key, hash, skipHome: false, ref result);
    }

    /// <summary>
    /// Bulk lookup in three passes over each chunk of keys (D's <c>rte_hash_lookup_bulk</c>): hash and
    /// prefetch every home bucket; match tags and prefetch every first candidate entry; then compare keys,
    /// by which time both lines are usually in L1. Keys whose home bucket is full continue probing alone.
    /// </summary>
    internal int LookupBulk<TSide>(MappingKey* keys, MappingResult* results, int count)
        where TSide : struct, IMappingSide
    {
        ulong* hashes = stackalloc ulong[BulkChunk];
        uint* matches = stackalloc uint[BulkChunk];
        uint* empties = stackalloc uint[BulkChunk];
        byte* buckets = TSide.IsUser ? _forward : _reverse;
        int hits = 0;
        for (int start = 0; start < count; start += BulkChunk)
        {
            int n = Math.Min(BulkChunk, count - start);
            MappingKey* chunkKeys = keys + start;
            MappingResult* chunkResults = results + start;

            for (int i = 0; i < n; i++)
            {
                ulong hash = _hash.Hash(chunkKeys[i].Low, chunkKeys[i].High, TSide.HashMeta(chunkKeys[i].Meta));
                hashes[i] = hash;
                if (Sse.IsSupported)
                {
                    Sse.Prefetch0(buckets + ((nuint)((uint)hash & _bucketMask) * BucketSize));
                }
            }

            for (int i = 0; i < n; i++)
            {
                byte* bucket = buckets + ((nuint)((uint)hashes[i] & _bucketMask) * BucketSize);
                uint match = TagGroup.Match(bucket, TagGroup.TagOf(hashes[i]), out empties[i]);
                matches[i] = match;
                if (match != 0 && Sse.IsSupported)
                {
                    Sse.Prefetch0(EntryAt(SlotIndex(bucket, BitOperations.TrailingZeroCount(match))));
                }
            }

            for (int i = 0; i < n; i++)
            {
                ref MappingResult result = ref chunkResults[i];
                byte* bucket = buckets + ((nuint)((uint)hashes[i] & _bucketMask) * BucketSize);
                bool found = false;
                for (uint match = matches[i]; match != 0; match &= match - 1)
                {
                    if (TSide.Match(EntryAt(SlotIndex(bucket, BitOperations.TrailingZeroCount(match))), in chunkKeys[i], ref result))
                    {
                        found = true;
                        break;
                    }
                }

                if (!found && empties[i] == 0)
                {
                    found = Probe<TSide>(in chunkKeys[i], hashes[i], skipHome: true, ref result);
                }

                if (found)
                {
                    hits++;
                }
                else
                {
                    result = default;
                }
            }
        }

        return hits;
    }

    /// <summary>Buckets a lookup of <paramref name="key"/> visits (tests compare this, never timings).</summary>
    internal int CountProbes<TSide>(in MappingKey key)
        where TSide : struct, IMappingSide
    {
        ulong hash = _hash.Hash(key.Low, key.High, TSide.HashMeta(key.Meta));
        MappingResult ignored = default;
        _ = ProbeCounted<TSide>(in key, hash, skipHome: false, ref ignored, out int probes);
        return probes;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Probe<TSide>(in MappingKey key, ulong hash, bool skipHome, ref MappingResult result)
        where TSide : struct, IMappingSide => ProbeCounted<TSide>(in key, hash, skipHome, ref result, out _);

    // Triangular probing (home, +1, +2, +3, … buckets) visits every bucket of a power-of-two table once.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool ProbeCounted<TSide>(in MappingKey key, ulong hash, bool skipHome, ref MappingResult result, out int probes)
        where TSide : struct, IMappingSide
    {
        byte* buckets = TSide.IsUser ? _forward : _reverse;
        byte tag = TagGroup.TagOf(hash);
        uint index = (uint)hash & _bucketMask;
        uint probe = 0;
        if (skipHome)
        {
            probe = 1;
            index = (index + 1) & _bucketMask;
        }

        while (probe <= _bucketMask)
        {
            byte* bucket = buckets + ((nuint)index * BucketSize);
            uint match = TagGroup.Match(bucket, tag, out uint empty);
            for (; match != 0; match &= match - 1)
            {
                if (TSide.Match(EntryAt(SlotIndex(bucket, BitOperations.TrailingZeroCount(match))), in key, ref result))
                {
                    probes = (int)probe + 1;
                    return true;
                }
            }

            probe++;
            if (empty != 0)
            {
                break;
            }

            index = (index + probe) & _bucketMask;
        }

        probes = (int)probe;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint SlotIndex(byte* bucket, int slot) =>
        Volatile.Read(ref Unsafe.AsRef<uint>(bucket + SlotIndexOffset + (slot * sizeof(uint))));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* EntryAt(uint index) => _entries + ((nuint)index * MappingEntryLayout.Size);

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _ = Libc.Munmap(_memory, _length);
        }
    }
}
