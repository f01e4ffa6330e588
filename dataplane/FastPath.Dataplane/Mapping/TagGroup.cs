using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace FastPath.Dataplane.Mapping;

/// <summary>
/// Matches the 12 one-byte tags at the head of a bucket against one tag in a single vector compare,
/// giving a bitmask (bit i = slot i) that callers walk with <c>TrailingZeroCount</c> (A's control-byte groups).
/// </summary>
/// <remarks>
/// Stateless; thread-safe. Reads 16 bytes (12 tags, 4 reserved) that always lie inside the 64-byte bucket.
/// Tag 0 marks an empty slot, 1 a deleted one (tombstone), 2–255 a full slot, so one load answers "which
/// slots may hold the key" and "may the probe stop here" together. Only Vector128 is used: a bucket has 12
/// tags, so wider vectors would compare bytes of the slot array. <see cref="MatchScalar"/> is the SWAR twin.
/// </remarks>
internal static unsafe partial class TagGroup
{
    /// <summary>Slots per bucket: 12 tags + 4 reserved bytes + 12 four-byte entry indices = 64 bytes.</summary>
    internal const int Slots = 12;

    /// <summary>Bits of the match mask that name slots.</summary>
    internal const uint SlotMask = (1u << Slots) - 1;

    internal const byte Empty = 0;
    internal const byte Deleted = 1;

    /// <summary>Tags of full slots lie in 2–255: the hash's top byte, with 0 and 1 moved to 2 and 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte TagOf(ulong hash)
    {
        uint tag = (uint)(hash >> 56);
        return (byte)(tag < 2 ? tag + 2 : tag);
    }

    /// <summary>Slots whose tag equals <paramref name="tag"/>, and (in <paramref name="empty"/>) slots that are empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Match(byte* bucket, byte tag, out uint empty)
    {
        if (Vector128.IsHardwareAccelerated)
        {
            Vector128<byte> tags = Vector128.Load(bucket);
            empty = Vector128.Equals(tags, Vector128<byte>.Zero).ExtractMostSignificantBits() & SlotMask;
            return Vector128.Equals(tags, Vector128.Create(tag)).ExtractMostSignificantBits() & SlotMask;
        }

        empty = MatchScalar(bucket, Empty);
        return MatchScalar(bucket, tag);
    }

    /// <summary>Slots an insert may take: empty or deleted.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint MatchFree(byte* bucket)
    {
        if (Vector128.IsHardwareAccelerated)
        {
            // Tags 0 and 1 are exactly the bytes below 2.
            Vector128<byte> tags = Vector128.Load(bucket);
            return Vector128.LessThan(tags, Vector128.Create((byte)2)).ExtractMostSignificantBits() & SlotMask;
        }

        return MatchScalar(bucket, Empty) | MatchScalar(bucket, Deleted);
    }
}
