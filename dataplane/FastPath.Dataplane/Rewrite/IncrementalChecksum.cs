using System.Runtime.CompilerServices;

namespace FastPath.Dataplane.Rewrite;

/// <summary>
/// RFC 1624 incremental update of an Internet checksum: HC' = ~(~HC + ~m + m'), summed in ones' complement.
/// </summary>
/// <remarks>
/// Words are read in native byte order and the checksum field is read and written in native order too: the
/// ones' complement sum is byte-order independent (RFC 1071 §2(B)), so no byte swap is needed on x86. Deltas
/// accumulate 32-bit words into a 64-bit sum, which is the same ones' complement sum as 16-bit words once
/// folded. Equation 3 (not equation 2 of RFC 1141) is used because it never produces the 0x0000 that a full
/// recomputation would write as 0xFFFF's complement — the corner case RFC 1624 §3 was written to fix.
/// Thread-safe: pure functions over caller memory.
/// </remarks>
internal static unsafe class IncrementalChecksum
{
    /// <summary>Ones' complement delta of replacing <paramref name="length"/> bytes at <paramref name="old"/> by <paramref name="replacement"/>; length is 4 or 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Delta(byte* old, byte* replacement, int length)
    {
        ulong sum = 0;
        for (int i = 0; i < length; i += 4)
        {
            sum += (uint)~Unsafe.ReadUnaligned<uint>(old + i);
            sum += Unsafe.ReadUnaligned<uint>(replacement + i);
        }

        return sum;
    }

    /// <summary>Ones' complement delta of replacing the 16-bit word <paramref name="old"/> by <paramref name="replacement"/> (native order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Delta(ushort old, ushort replacement) => (ushort)~old + (ulong)replacement;

    /// <summary>Applies an accumulated delta to a checksum field value (native order) and returns the new field value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Apply(ushort checksum, ulong delta) => (ushort)~Fold((ushort)~checksum + delta);

    /// <summary>Folds a 64-bit ones' complement accumulator to 16 bits with end-around carries.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Fold(ulong sum)
    {
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        sum = (sum & 0xFFFF_FFFF) + (sum >> 32);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>Full Internet checksum of a buffer (RFC 1071), in native order: the value to store in the checksum field.</summary>
    /// <remarks>Used where the worker builds a header from scratch (guest TX) and by tests as the reference.</remarks>
    public static ushort Compute(byte* data, int length, ulong initial = 0)
    {
        ulong sum = initial;
        int i = 0;
        for (; i + 4 <= length; i += 4)
        {
            sum += Unsafe.ReadUnaligned<uint>(data + i);
        }

        if (i + 2 <= length)
        {
            sum += Unsafe.ReadUnaligned<ushort>(data + i);
            i += 2;
        }

        if (i < length)
        {
            // The odd last byte is the high-order byte of a big-endian word padded with zero (RFC 1071),
            // which in native (little-endian) order is the low byte.
            sum += data[i];
        }

        return (ushort)~Fold(sum);
    }
}
