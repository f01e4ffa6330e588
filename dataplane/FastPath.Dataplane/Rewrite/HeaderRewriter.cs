using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FastPath.Dataplane.Parsing;

namespace FastPath.Dataplane.Rewrite;

/// <summary>
/// Rewrites the addresses and TTL of one parsed packet in place and updates every checksum that covers them
/// incrementally (RFC 1624): the IPv4 header checksum, and the TCP, UDP and ICMPv6 checksums through the
/// pseudo-header.
/// </summary>
/// <remarks>
/// Why incremental: a full recomputation reads the whole payload (up to 9 KB for jumbo frames) on the worker
/// core; the update reads only the bytes it changes, so the cost is the same for every packet size.
/// ICMP for IPv4 has no pseudo-header, so its checksum does not change. Non-first fragments carry no transport
/// header: the parser leaves <see cref="PacketMeta.L4ChecksumOffset"/> at 0 and only the IP header changes.
/// A first fragment's transport checksum covers the whole datagram, pseudo-header included, so its update is
/// exact although the rest of the datagram is in other fragments.
/// Thread-safe: pure functions over caller memory.
/// </remarks>
internal static unsafe class HeaderRewriter
{
    private const byte ProtocolIcmpV6 = 58;
    private const byte ProtocolUdp = 17;
    private const int Ipv4ChecksumOffset = 10;

    /// <summary>
    /// Replaces the source and/or destination address (null keeps it), decrements the TTL or hop limit and
    /// updates the checksums. The caller has checked that <paramref name="meta"/>'s verdict is ok and the TTL is above 1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Apply(byte* frame, in PacketMeta meta, byte* newSource, byte* newDestination) =>
        ApplyDelta(frame, meta, ReplaceAddresses(frame, meta.SourceOffset, meta.DestinationOffset, newSource, newDestination, meta.IpVersion == 4 ? 4 : 16));

    /// <summary>
    /// <see cref="Apply(byte*, in PacketMeta, byte*, byte*)"/> with each new address as two words in network byte order
    /// (an IPv4 address in the low 4 bytes of <c>low</c>), the way a lookup result holds it: the worker's rewrite
    /// passes them in registers instead of staging them through memory (issue 18).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Apply(
        byte* frame, in PacketMeta meta, bool replaceSource, ulong sourceLow, ulong sourceHigh, bool replaceDestination, ulong destinationLow, ulong destinationHigh)
    {
        bool v4 = meta.IpVersion == 4;
        ulong delta = 0;
        if (replaceSource)
        {
            delta += Replace(frame + meta.SourceOffset, sourceLow, sourceHigh, v4);
        }

        if (replaceDestination)
        {
            delta += Replace(frame + meta.DestinationOffset, destinationLow, destinationHigh, v4);
        }

        ApplyDelta(frame, meta, delta);
    }

    /// <summary>The part of the rewrite after the addresses: TTL or hop limit, then every checksum by the addresses' delta.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ApplyDelta(byte* frame, in PacketMeta meta, ulong addressDelta)
    {
        byte* ttl = frame + meta.TtlOffset;
        if (meta.IpVersion == 4)
        {
            // The TTL shares a 16-bit word with the protocol byte; the word, not the byte, enters the sum. The word is
            // read once and written once: a byte store followed by a word load of the same bytes would stall on
            // store forwarding (the benchmark showed the IPv4 rewrite at twice the IPv6 cost that way).
            ushort oldWord = Unsafe.ReadUnaligned<ushort>(ttl);
            ushort newWord = BitConverter.IsLittleEndian
                ? (ushort)((oldWord & 0xFF00) | (byte)(oldWord - 1))
                : (ushort)((oldWord & 0x00FF) | ((oldWord - 0x100) & 0xFF00));
            Unsafe.WriteUnaligned(ttl, newWord);
            ulong headerDelta = addressDelta + IncrementalChecksum.Delta(oldWord, newWord);
            ushort* headerChecksum = (ushort*)(frame + meta.L3Offset + Ipv4ChecksumOffset);
            Unsafe.WriteUnaligned(headerChecksum, IncrementalChecksum.Apply(Unsafe.ReadUnaligned<ushort>(headerChecksum), headerDelta));
        }
        else
        {
            (*ttl)--;
        }

        if (meta.L4ChecksumOffset == 0 || addressDelta == 0 || !CoversPseudoHeader(meta))
        {
            return;
        }

        ushort* checksum = (ushort*)(frame + meta.L4ChecksumOffset);
        ushort old = Unsafe.ReadUnaligned<ushort>(checksum);
        if (meta.Protocol == ProtocolUdp)
        {
            // RFC 768: an IPv4 UDP checksum of 0 means "none" and must stay 0; a computed 0 is sent as 0xFFFF.
            if (old == 0 && meta.IpVersion == 4)
            {
                return;
            }

            ushort updated = IncrementalChecksum.Apply(old, addressDelta);
            Unsafe.WriteUnaligned(checksum, updated == 0 ? (ushort)0xFFFF : updated);
            return;
        }

        Unsafe.WriteUnaligned(checksum, IncrementalChecksum.Apply(old, addressDelta));
    }

    /// <summary>
    /// Copies <paramref name="newSource"/> and/or <paramref name="newDestination"/> (null keeps that address) over the
    /// <paramref name="length"/>-byte addresses at the two offsets; returns the ones' complement delta of the change,
    /// for every checksum that covers them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ReplaceAddresses(byte* frame, int sourceOffset, int destinationOffset, byte* newSource, byte* newDestination, int length)
    {
        ulong delta = 0;
        if (newSource != null)
        {
            delta += Replace(frame + sourceOffset, newSource, length);
        }

        if (newDestination != null)
        {
            delta += Replace(frame + destinationOffset, newDestination, length);
        }

        return delta;
    }

    // Fixed-size loads and stores per family: a copy of variable length is a call to memmove, which the profile of
    // `fastpath bench` showed inside the rewrite loop (issue 18).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Replace(byte* field, byte* replacement, int length)
    {
        if (length == 4)
        {
            uint old = Unsafe.ReadUnaligned<uint>(field);
            uint value = Unsafe.ReadUnaligned<uint>(replacement);
            Unsafe.WriteUnaligned(field, value);
            return (ulong)(uint)~old + value;
        }

        ulong delta = IncrementalChecksum.Delta(field, replacement, 16);
        Unsafe.WriteUnaligned(field, Unsafe.ReadUnaligned<ulong>(replacement));
        Unsafe.WriteUnaligned(field + 8, Unsafe.ReadUnaligned<ulong>(replacement + 8));
        return delta;
    }

    // The same by value: the old address is read, the new one written, the ones' complement delta returned.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Replace(byte* field, ulong low, ulong high, bool v4)
    {
        if (v4)
        {
            uint old = Unsafe.ReadUnaligned<uint>(field);
            Unsafe.WriteUnaligned(field, (uint)low);
            return (ulong)(uint)~old + (uint)low;
        }

        ulong oldLow = Unsafe.ReadUnaligned<ulong>(field);
        ulong oldHigh = Unsafe.ReadUnaligned<ulong>(field + 8);
        Unsafe.WriteUnaligned(field, low);
        Unsafe.WriteUnaligned(field + 8, high);
        return (ulong)(uint)~oldLow + (uint)~(oldLow >> 32) + (uint)~oldHigh + (uint)~(oldHigh >> 32)
            + (uint)low + (low >> 32) + (uint)high + (high >> 32);
    }

    /// <summary>Sets the Ethernet destination and source MAC addresses (6 bytes each).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SetMacs(byte* frame, byte* source, byte* destination)
    {
        Unsafe.WriteUnaligned(frame, Unsafe.ReadUnaligned<uint>(destination));
        Unsafe.WriteUnaligned(frame + 4, Unsafe.ReadUnaligned<ushort>(destination + 4));
        Unsafe.WriteUnaligned(frame + 6, Unsafe.ReadUnaligned<uint>(source));
        Unsafe.WriteUnaligned(frame + 10, Unsafe.ReadUnaligned<ushort>(source + 4));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool CoversPseudoHeader(in PacketMeta meta) =>
        meta.Protocol is 6 or ProtocolUdp || (meta.Protocol == ProtocolIcmpV6 && meta.IpVersion == 6);
}
