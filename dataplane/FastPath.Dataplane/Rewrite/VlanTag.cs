using System.Runtime.CompilerServices;
using FastPath.Dataplane.Parsing;

namespace FastPath.Dataplane.Rewrite;

/// <summary>
/// Removes or inserts one 802.1Q tag by moving the 12 MAC bytes, not the packet: the frame's start pointer
/// moves by 4 bytes, which is why frames keep headroom in front of the Ethernet header.
/// </summary>
/// <remarks>Thread-safe: pure functions over caller memory.</remarks>
internal static unsafe class VlanTag
{
    /// <summary>Bytes an 802.1Q tag adds to a frame.</summary>
    public const int Size = 4;

    /// <summary>Removes the tag of a tagged frame; returns the new frame start (4 bytes later) and shortens <paramref name="length"/>.</summary>
    /// <param name="frame">The frame's first byte.</param>
    /// <param name="length">The frame's length.</param>
    /// <param name="meta">The frame's parse, whose offsets move with the frame start.</param>
    /// <param name="moveMacs">False when the caller writes both MACs next anyway: the 12-byte move would be dead.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* Pop(byte* frame, ref int length, ref PacketMeta meta, bool moveMacs = true)
    {
        if (moveMacs)
        {
            MoveMacs(frame, frame + Size);
        }

        length -= Size;
        meta.Flags &= ~PacketFlags.Vlan;
        Shift(ref meta, -Size, 0);
        return frame + Size;
    }

    /// <summary>
    /// Inserts a tag with VLAN ID <paramref name="vlanId"/> (priority 0) into an untagged frame; returns the new frame
    /// start, 4 bytes earlier — the caller guarantees that much headroom — and lengthens <paramref name="length"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte* Push(byte* frame, ref int length, ref PacketMeta meta, ushort vlanId)
    {
        byte* start = frame - Size;
        MoveMacs(frame, start);
        start[12] = 0x81;
        start[13] = 0x00;
        start[14] = (byte)(vlanId >> 8);
        start[15] = (byte)vlanId;
        length += Size;
        meta.Flags |= PacketFlags.Vlan;
        Shift(ref meta, Size, vlanId);
        return start;
    }

    // Both loads happen before either store, so the overlapping 4-byte move needs no memmove call (which the
    // profile showed at 3 % of a worker's time).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MoveMacs(byte* from, byte* to)
    {
        ulong first = Unsafe.ReadUnaligned<ulong>(from);
        uint last = Unsafe.ReadUnaligned<uint>(from + 8);
        Unsafe.WriteUnaligned(to, first);
        Unsafe.WriteUnaligned(to + 8, last);
    }

    // The seven offsets that move with the frame start are the 16-bit lanes of two 8-byte words of PacketMeta (L3,
    // L4, payload, end | VLAN ID, source, destination, TTL; the layout test asserts it), so they move in two
    // lane-wise adds instead of seven read-modify-writes; the VLAN ID lane is set on the way (issue 18). Each lane
    // wraps on its own like the ushort arithmetic it replaces: the low 15 bits add with the carry kept out of bit 15,
    // then bit 15 is the XOR of both top bits and that carry (no carry or borrow ever crosses into the next lane).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Shift(ref PacketMeta meta, int delta, ushort vlanId)
    {
        if (!BitConverter.IsLittleEndian)
        {
            ShiftScalar(ref meta, delta, vlanId);
            return;
        }

        ulong add = 0x0001_0001_0001_0001UL * (ushort)delta;
        ref ulong first = ref Unsafe.As<ushort, ulong>(ref meta.L3Offset);
        ref ulong second = ref Unsafe.As<ushort, ulong>(ref meta.VlanId);
        first = AddLanes(first, add);
        second = (AddLanes(second, add) & ~0xFFFFUL) | vlanId;
        if (meta.L4ChecksumOffset != 0)
        {
            meta.L4ChecksumOffset = (ushort)(meta.L4ChecksumOffset + delta);
        }
    }

    /// <summary>The field-by-field twin of <see cref="Shift"/> (big-endian hosts, and the test's reference).</summary>
    internal static void ShiftScalar(ref PacketMeta meta, int delta, ushort vlanId)
    {
        meta.L3Offset = (ushort)(meta.L3Offset + delta);
        meta.L4Offset = (ushort)(meta.L4Offset + delta);
        meta.PayloadOffset = (ushort)(meta.PayloadOffset + delta);
        meta.PacketEnd = (ushort)(meta.PacketEnd + delta);
        meta.VlanId = vlanId;
        meta.SourceOffset = (ushort)(meta.SourceOffset + delta);
        meta.DestinationOffset = (ushort)(meta.DestinationOffset + delta);
        meta.TtlOffset = (ushort)(meta.TtlOffset + delta);
        if (meta.L4ChecksumOffset != 0)
        {
            meta.L4ChecksumOffset = (ushort)(meta.L4ChecksumOffset + delta);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong AddLanes(ulong x, ulong y)
    {
        const ulong High = 0x8000_8000_8000_8000UL;
        return ((x & ~High) + (y & ~High)) ^ ((x ^ y) & High);
    }
}
