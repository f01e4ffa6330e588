using System.Runtime.CompilerServices;

namespace FastPath.Dataplane.Mapping;

internal static unsafe partial class TagGroup
{
    private const ulong LowSevenBits = 0x7F7F_7F7F_7F7F_7F7FUL;

    // Byte j = 0x80 >> j: moves bit 8k of a 0/1-per-byte word to bit 56 + k without carries (each of
    // the 64 partial products lands on its own bit), the portable stand-in for movemask.
    private const ulong GatherHighBits = 0x0102_0408_1020_4080UL;

    /// <summary>
    /// SWAR twin of the vector match: the same bitmask from two integer words. Exact (no false positives,
    /// unlike the classic "has zero byte" trick) so tests can require equality with the vector path.
    /// </summary>
    internal static uint MatchScalar(byte* bucket, byte tag)
    {
        ulong pattern = 0x0101_0101_0101_0101UL * tag;
        ulong low = Unsafe.ReadUnaligned<ulong>(bucket) ^ pattern;

        // Tags 8–11; the upper 4 bytes are forced non-zero so the reserved bytes never match.
        ulong high = (Unsafe.ReadUnaligned<uint>(bucket + 8) ^ (uint)pattern) | 0xFFFF_FFFF_0000_0000UL;
        return ZeroBytes(low) | (ZeroBytes(high) << 8);
    }

    /// <summary>Bit i set exactly when byte i of <paramref name="word"/> is zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ZeroBytes(ulong word)
    {
        // Bit 7 of each byte of (b & 0x7F) + 0x7F is set iff b & 0x7F != 0 (no carry leaves the byte);
        // OR b restores its own bit 7; the complement leaves 0x80 exactly in zero bytes.
        ulong zero = ~(((word & LowSevenBits) + LowSevenBits) | word | LowSevenBits);
        return (uint)(((zero >> 7) * GatherHighBits) >> 56);
    }
}
