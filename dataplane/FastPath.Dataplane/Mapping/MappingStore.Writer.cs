using System.Numerics;
using System.Runtime.CompilerServices;

namespace FastPath.Dataplane.Mapping;

internal sealed unsafe partial class MappingStore
{
    /// <summary>
    /// Adds <paramref name="entry"/> unless its user key or secure address is present (then returns the
    /// refusal and the conflicting entry's index). The caller holds the writer lock, has validated the
    /// entry and checked <see cref="HasRoomForOne"/>.
    /// </summary>
    internal MappingAddResult TryAddUnsynchronized(in MappingEntry entry, out uint conflictingEntry)
    {
        MappingKey user = entry.User;
        MappingKey secure = entry.Secure;
        ulong userHash = _hash.Hash(user.Low, user.High, UserSide.HashMeta(user.Meta));
        ulong secureHash = _hash.Hash(secure.Low, secure.High, SecureSide.HashMeta(secure.Meta));
        if (FindSlot<UserSide>(in user, userHash, out _, out _, out conflictingEntry))
        {
            return MappingAddResult.DuplicateUser;
        }

        if (FindSlot<SecureSide>(in secure, secureHash, out _, out _, out conflictingEntry))
        {
            return MappingAddResult.DuplicateSecure;
        }

        uint index = AllocateEntry();
        WriteEntry(EntryAt(index), user.Meta, user.Low, user.High, secure.Low, secure.High);

        // Entry complete before either slot names it (the slot's release store orders it).
        InsertSlot(_forward, userHash, index, ref _forwardGrowthLeft);
        InsertSlot(_reverse, secureHash, index, ref _reverseGrowthLeft);
        Count++;
        conflictingEntry = index;
        return MappingAddResult.Added;
    }

    /// <summary>Removes the mapping whose <typeparamref name="TSide"/> key is <paramref name="key"/>; false when absent.</summary>
    internal bool RemoveUnsynchronized<TSide>(in MappingKey key)
        where TSide : struct, IMappingSide
    {
        ulong hash = _hash.Hash(key.Low, key.High, TSide.HashMeta(key.Meta));
        if (!FindSlot<TSide>(in key, hash, out byte* bucket, out int slot, out uint index))
        {
            return false;
        }

        byte* entry = EntryAt(index);
        MappingKey user = ReadKey(entry, MappingEntryLayout.User, Unsafe.ReadUnaligned<uint>(entry + MappingEntryLayout.Meta));
        MappingKey secure = ReadKey(entry, MappingEntryLayout.Secure, user.Meta & MappingKey.FamilyBits);
        ulong otherHash = TSide.IsUser
            ? _hash.Hash(secure.Low, secure.High, SecureSide.HashMeta(secure.Meta))
            : _hash.Hash(user.Low, user.High, UserSide.HashMeta(user.Meta));
        byte* otherBuckets = TSide.IsUser ? _reverse : _forward;
        FindSlotOfEntry(otherBuckets, otherHash, index, out byte* otherBucket, out int otherSlot);

        // Both slots unpublished before the entry changes: readers that still hold the index see the
        // version move or family 0 and skip it.
        if (TSide.IsUser)
        {
            DeleteSlot(bucket, slot, ref _forwardGrowthLeft, isForward: true);
            DeleteSlot(otherBucket, otherSlot, ref _reverseGrowthLeft, isForward: false);
        }
        else
        {
            DeleteSlot(bucket, slot, ref _reverseGrowthLeft, isForward: false);
            DeleteSlot(otherBucket, otherSlot, ref _forwardGrowthLeft, isForward: true);
        }

        FreeEntry(entry, index);
        Count--;
        return true;
    }

    /// <summary>Copies every live entry into <paramref name="target"/> (a fresh, unpublished store with room).</summary>
    internal void CopyLiveEntriesTo(MappingStore target)
    {
        for (int i = 0; i < _highWater; i++)
        {
            byte* entry = EntryAt((uint)i);
            uint meta = Unsafe.ReadUnaligned<uint>(entry + MappingEntryLayout.Meta);
            if ((meta & MappingKey.FamilyBits) == 0)
            {
                continue;
            }

            var copy = new MappingEntry(ReadKey(entry, MappingEntryLayout.User, meta), ReadKey(entry, MappingEntryLayout.Secure, meta & MappingKey.FamilyBits));
            _ = target.TryAddUnsynchronized(in copy, out _);
        }
    }

    /// <summary>The mapping stored at entry <paramref name="index"/> (writer side: no version check needed).</summary>
    internal MappingEntry EntryUnsynchronized(uint index)
    {
        byte* entry = EntryAt(index);
        uint meta = Unsafe.ReadUnaligned<uint>(entry + MappingEntryLayout.Meta);
        return new MappingEntry(ReadKey(entry, MappingEntryLayout.User, meta), ReadKey(entry, MappingEntryLayout.Secure, meta & MappingKey.FamilyBits));
    }

    /// <summary>Visits every live mapping (writer side).</summary>
    internal void CopyEntriesUnsynchronized(List<MappingEntry> into)
    {
        for (int i = 0; i < _highWater; i++)
        {
            byte* entry = EntryAt((uint)i);
            if ((Unsafe.ReadUnaligned<uint>(entry + MappingEntryLayout.Meta) & MappingKey.FamilyBits) != 0)
            {
                into.Add(EntryUnsynchronized((uint)i));
            }
        }
    }

    private static MappingKey ReadKey(byte* entry, int offset, uint meta) =>
        new(Unsafe.ReadUnaligned<ulong>(entry + offset), Unsafe.ReadUnaligned<ulong>(entry + offset + 8), meta);

    private bool FindSlot<TSide>(in MappingKey key, ulong hash, out byte* bucket, out int slot, out uint index)
        where TSide : struct, IMappingSide
    {
        byte* buckets = TSide.IsUser ? _forward : _reverse;
        byte tag = TagGroup.TagOf(hash);
        uint bucketIndex = (uint)hash & _bucketMask;
        MappingResult ignored = default;
        for (uint probe = 0; probe <= _bucketMask;)
        {
            bucket = buckets + ((nuint)bucketIndex * BucketSize);
            uint match = TagGroup.Match(bucket, tag, out uint empty);
            for (; match != 0; match &= match - 1)
            {
                slot = BitOperations.TrailingZeroCount(match);
                index = SlotIndex(bucket, slot);
                if (TSide.Match(EntryAt(index), in key, ref ignored))
                {
                    return true;
                }
            }

            if (empty != 0)
            {
                break;
            }

            probe++;
            bucketIndex = (bucketIndex + probe) & _bucketMask;
        }

        bucket = null;
        slot = -1;
        index = 0;
        return false;
    }

    private void FindSlotOfEntry(byte* buckets, ulong hash, uint index, out byte* bucket, out int slot)
    {
        byte tag = TagGroup.TagOf(hash);
        uint bucketIndex = (uint)hash & _bucketMask;
        for (uint probe = 0; probe <= _bucketMask;)
        {
            bucket = buckets + ((nuint)bucketIndex * BucketSize);
            for (uint match = TagGroup.Match(bucket, tag, out _); match != 0; match &= match - 1)
            {
                slot = BitOperations.TrailingZeroCount(match);
                if (SlotIndex(bucket, slot) == index)
                {
                    return;
                }
            }

            probe++;
            bucketIndex = (bucketIndex + probe) & _bucketMask;
        }

        throw new InvalidOperationException($"mapping table corrupt: entry {index} is missing from its other direction");
    }

    private void InsertSlot(byte* buckets, ulong hash, uint index, ref int growthLeft)
    {
        uint bucketIndex = (uint)hash & _bucketMask;
        for (uint probe = 0; ; )
        {
            byte* bucket = buckets + ((nuint)bucketIndex * BucketSize);
            uint free = TagGroup.MatchFree(bucket);
            if (free != 0)
            {
                int slot = BitOperations.TrailingZeroCount(free);
                if (bucket[slot] == TagGroup.Empty)
                {
                    growthLeft--;
                }
                else if (buckets == _forward)
                {
                    ForwardTombstones--;
                }
                else
                {
                    ReverseTombstones--;
                }

                // W1 then W2 (release), paired with the reader's tag load and acquire index load: a
                // reader that sees the new tag finds the new index (or a later one) and a complete entry.
                Volatile.Write(ref Unsafe.AsRef<uint>(bucket + SlotIndexOffset + (slot * sizeof(uint))), index);
                Volatile.Write(ref bucket[slot], TagGroup.TagOf(hash));
                return;
            }

            probe++;
            bucketIndex = (bucketIndex + probe) & _bucketMask;
        }
    }

    // A bucket that still has an empty slot was never full, so no probe ever passed it: the slot can go
    // back to Empty (and its growth credit returns). In a bucket that was full, probes for other keys may
    // run through it, so the slot becomes a tombstone until the next rebuild.
    private void DeleteSlot(byte* bucket, int slot, ref int growthLeft, bool isForward)
    {
        _ = TagGroup.Match(bucket, TagGroup.Empty, out uint empty);
        if (empty != 0)
        {
            growthLeft++;
            Volatile.Write(ref bucket[slot], TagGroup.Empty);
        }
        else
        {
            if (isForward)
            {
                ForwardTombstones++;
            }
            else
            {
                ReverseTombstones++;
            }

            Volatile.Write(ref bucket[slot], TagGroup.Deleted);
        }
    }

    private uint AllocateEntry()
    {
        if (_freeHead != NoFreeEntry)
        {
            uint index = _freeHead;
            _freeHead = Unsafe.ReadUnaligned<uint>(EntryAt(index) + MappingEntryLayout.FreeLink);
            return index;
        }

        return (uint)_highWater++;
    }

    // Seqlock writer: version odd, fields, version even. Every store is a release, so the odd version is
    // visible before any field changes and every field before the even version (pairs with Match's loads).
    private static void WriteEntry(byte* entry, uint meta, ulong userLow, ulong userHigh, ulong secureLow, ulong secureHigh)
    {
        ref uint version = ref Unsafe.AsRef<uint>(entry + MappingEntryLayout.Version);
        uint before = version;
        Volatile.Write(ref version, before + 1);
        Volatile.Write(ref Unsafe.AsRef<uint>(entry + MappingEntryLayout.Meta), meta);
        Volatile.Write(ref Unsafe.AsRef<ulong>(entry + MappingEntryLayout.User), userLow);
        Volatile.Write(ref Unsafe.AsRef<ulong>(entry + MappingEntryLayout.User + 8), userHigh);
        Volatile.Write(ref Unsafe.AsRef<ulong>(entry + MappingEntryLayout.Secure), secureLow);
        Volatile.Write(ref Unsafe.AsRef<ulong>(entry + MappingEntryLayout.Secure + 8), secureHigh);
        Volatile.Write(ref version, before + 2);
    }

    private void FreeEntry(byte* entry, uint index)
    {
        ref uint version = ref Unsafe.AsRef<uint>(entry + MappingEntryLayout.Version);
        uint before = version;
        Volatile.Write(ref version, before + 1);
        Volatile.Write(ref Unsafe.AsRef<uint>(entry + MappingEntryLayout.Meta), 0u);
        Volatile.Write(ref version, before + 2);

        // Readers never load the link word, so it needs no version bracket.
        Unsafe.WriteUnaligned(entry + MappingEntryLayout.FreeLink, _freeHead);
        _freeHead = index;
    }
}
