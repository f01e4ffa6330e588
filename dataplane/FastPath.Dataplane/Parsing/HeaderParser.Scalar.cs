using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Parsing;

// The scalar twin: defines the semantics every vector path must reproduce field for field, and parses
// every frame the vector paths do not recognise as a common shape.
public static unsafe partial class HeaderParser
{
    /// <summary>Extension headers walked before <see cref="DropReason.ExtChainTooLong"/>: the ninth is refused.</summary>
    /// <remarks>RFC 8200 order needs at most six (HBH, DestOpts, Routing, Fragment, AH, DestOpts); 8 leaves slack for
    /// repeated headers while bounding the per-packet work a hostile sender can cause.</remarks>
    internal const int MaxExtensionHeaders = 8;

    internal const int EthernetHeaderLength = 14;
    internal const int VlanTagLength = 4;
    internal const int Ipv4MinHeaderLength = 20;
    internal const int Ipv6HeaderLength = 40;

    internal const ushort EtherTypeIpv4 = 0x0800;
    internal const ushort EtherTypeIpv6 = 0x86DD;
    internal const ushort EtherTypeVlan = 0x8100;
    internal const ushort EtherTypeQinQ = 0x88A8;

    // Pre-standard QinQ outer tag that switches still emit; refused like 802.1ad rather than read as "not IP".
    internal const ushort EtherTypeQinQLegacy = 0x9100;

    internal const byte ProtocolIcmp = 1;
    internal const byte ProtocolTcp = 6;
    internal const byte ProtocolUdp = 17;
    internal const byte ProtocolIcmpv6 = 58;

    internal static void ParseScalar(ReadOnlySpan<FrameView> frames, Span<PacketMeta> meta)
    {
        ref FrameView frame = ref MemoryMarshal.GetReference(frames);
        ref PacketMeta record = ref MemoryMarshal.GetReference(meta);
        nuint count = (nuint)frames.Length;
        for (nuint i = 0; i < count; i++)
        {
            ref readonly FrameView f = ref Unsafe.Add(ref frame, i);
            ParseFrame(f.Data, f.Length, ref Unsafe.Add(ref record, i));
        }
    }

    /// <summary>Parses one frame; reads only <paramref name="length"/> bytes from <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ParseFrame(byte* p, int length, ref PacketMeta meta)
    {
        meta = default;
        meta.Verdict = ParseEthernet(p, (uint)Math.Max(length, 0), ref meta);
    }

    private static DropReason ParseEthernet(byte* p, uint length, ref PacketMeta meta)
    {
        if (length < EthernetHeaderLength)
        {
            return DropReason.Truncated;
        }

        uint etherType = ReadBigEndian16(p + 12);
        uint l3 = EthernetHeaderLength;
        if (etherType == EtherTypeVlan)
        {
            if (length < EthernetHeaderLength + VlanTagLength)
            {
                return DropReason.Truncated;
            }

            meta.Flags = PacketFlags.Vlan;
            meta.VlanId = (ushort)(ReadBigEndian16(p + 14) & 0x0FFF);
            etherType = ReadBigEndian16(p + 16);
            l3 = EthernetHeaderLength + VlanTagLength;
            if (etherType is EtherTypeVlan or EtherTypeQinQ or EtherTypeQinQLegacy)
            {
                return DropReason.Unsupported;
            }
        }
        else if (etherType is EtherTypeQinQ or EtherTypeQinQLegacy)
        {
            return DropReason.Unsupported;
        }

        if (etherType == EtherTypeIpv4)
        {
            meta.L3Offset = (ushort)l3;
            return ParseIpv4(p, length, l3, ref meta);
        }

        if (etherType == EtherTypeIpv6)
        {
            meta.L3Offset = (ushort)l3;
            return ParseIpv6(p, length, l3, ref meta);
        }

        return DropReason.NotIp;
    }

    private static DropReason ParseIpv4(byte* p, uint length, uint l3, ref PacketMeta meta)
    {
        uint available = length - l3;
        if (available < Ipv4MinHeaderLength)
        {
            return DropReason.Truncated;
        }

        byte* ip = p + l3;
        uint versionIhl = ip[0];
        if ((versionIhl >> 4) != 4)
        {
            return DropReason.BadVersion;
        }

        // Addresses, TTL and protocol sit in the first 20 bytes: filled in before the length checks so that
        // `fastpath inspect` can still name the hosts of a malformed packet.
        meta.IpVersion = 4;
        meta.Protocol = ip[9];
        meta.TtlOffset = (ushort)(l3 + 8);
        meta.SourceOffset = (ushort)(l3 + 12);
        meta.DestinationOffset = (ushort)(l3 + 16);

        uint headerLength = (versionIhl & 0xF) * 4;
        if (headerLength < Ipv4MinHeaderLength)
        {
            return DropReason.BadIhl;
        }

        if (headerLength > available)
        {
            return DropReason.Truncated;
        }

        uint totalLength = ReadBigEndian16(ip + 2);
        if (totalLength < headerLength || totalLength > available)
        {
            return DropReason.BadLength;
        }

        uint end = l3 + totalLength;
        if (end > ushort.MaxValue)
        {
            // Only a frame over 64 KiB can get here; offsets are 16-bit by contract.
            return DropReason.Unsupported;
        }

        if (!Ipv4ChecksumValid(ip, headerLength))
        {
            return DropReason.BadChecksum;
        }

        if (headerLength > Ipv4MinHeaderLength)
        {
            meta.Flags |= PacketFlags.Ipv4Options;
        }

        uint l4 = l3 + headerLength;
        meta.PacketEnd = (ushort)end;
        meta.L4Offset = (ushort)l4;

        uint fragment = ReadBigEndian16(ip + 6);
        if ((fragment & 0x1FFF) != 0)
        {
            meta.Fragment = FragmentState.NonFirst;
            meta.PayloadOffset = (ushort)l4;
            return DropReason.None;
        }

        if ((fragment & 0x2000) != 0)
        {
            meta.Fragment = FragmentState.First;
        }

        return ParseTransport(p, l4, end, ProtocolIcmp, ref meta);
    }

    private static DropReason ParseIpv6(byte* p, uint length, uint l3, ref PacketMeta meta)
    {
        uint available = length - l3;
        if (available < Ipv6HeaderLength)
        {
            return DropReason.Truncated;
        }

        byte* ip = p + l3;
        if ((ip[0] >> 4) != 6)
        {
            return DropReason.BadVersion;
        }

        meta.IpVersion = 6;
        meta.TtlOffset = (ushort)(l3 + 7);
        meta.SourceOffset = (ushort)(l3 + 8);
        meta.DestinationOffset = (ushort)(l3 + 24);

        uint payloadLength = ReadBigEndian16(ip + 4);
        if (Ipv6HeaderLength + payloadLength > available)
        {
            return DropReason.BadLength;
        }

        uint end = l3 + Ipv6HeaderLength + payloadLength;
        if (end > ushort.MaxValue)
        {
            return DropReason.Unsupported;
        }

        meta.PacketEnd = (ushort)end;
        uint next = ip[6];
        uint offset = l3 + Ipv6HeaderLength;
        for (int walked = 0; IsExtensionHeader(next); walked++)
        {
            if (walked == MaxExtensionHeaders)
            {
                return DropReason.ExtChainTooLong;
            }

            // Every extension header is a multiple of 8 bytes and at least 8.
            if (end - offset < 8)
            {
                return DropReason.Truncated;
            }

            byte* header = p + offset;
            uint headerLength;
            if (next == 44)
            {
                headerLength = 8;
                uint offsetAndFlags = ReadBigEndian16(header + 2);
                if ((offsetAndFlags & 0xFFF8) != 0)
                {
                    meta.Fragment = FragmentState.NonFirst;
                }
                else if ((offsetAndFlags & 1) != 0)
                {
                    meta.Fragment = FragmentState.First;
                }
            }
            else
            {
                headerLength = (header[1] + 1u) * 8;
                if (headerLength > end - offset)
                {
                    return DropReason.Truncated;
                }
            }

            meta.Flags |= PacketFlags.Ipv6Extensions;
            next = header[0];
            offset += headerLength;
            if (meta.Fragment == FragmentState.NonFirst)
            {
                // What follows a non-first fragment header is payload, not more headers.
                break;
            }
        }

        meta.Protocol = (byte)next;
        meta.L4Offset = (ushort)offset;
        if (meta.Fragment == FragmentState.NonFirst)
        {
            meta.PayloadOffset = (ushort)offset;
            return DropReason.None;
        }

        return ParseTransport(p, offset, end, ProtocolIcmpv6, ref meta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsExtensionHeader(uint next) => next is 0 or 43 or 44 or 60;

    /// <summary>UDP, TCP and the family's ICMP; <paramref name="icmp"/> is 1 under IPv4 and 58 under IPv6.</summary>
    /// <remarks>ICMP in the other family is an "other protocol": its checksum rules (pseudo-header or not) do not apply.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static DropReason ParseTransport(byte* p, uint l4, uint end, byte icmp, ref PacketMeta meta)
    {
        uint available = end - l4;
        byte* t = p + l4;
        uint protocol = meta.Protocol;
        uint headerLength;
        if (protocol == ProtocolUdp)
        {
            if (available < 8)
            {
                return DropReason.Truncated;
            }

            // A fragment's UDP length covers the whole datagram, so it is only checked on whole packets.
            uint udpLength = ReadBigEndian16(t + 4);
            if (meta.Fragment == FragmentState.None && (udpLength < 8 || udpLength > available))
            {
                return DropReason.BadLength;
            }

            headerLength = 8;
            meta.L4ChecksumOffset = (ushort)(l4 + 6);
        }
        else if (protocol == ProtocolTcp)
        {
            if (available < 20)
            {
                return DropReason.Truncated;
            }

            headerLength = (uint)(t[12] >> 4) * 4;
            if (headerLength < 20 || headerLength > available)
            {
                return DropReason.BadLength;
            }

            meta.L4ChecksumOffset = (ushort)(l4 + 16);
        }
        else if (protocol == icmp)
        {
            if (available < 4)
            {
                return DropReason.Truncated;
            }

            meta.L4ChecksumOffset = (ushort)(l4 + 2);
            meta.PayloadOffset = (ushort)(l4 + 4);
            meta.Flags |= PacketFlags.Transport;
            return DropReason.None;
        }
        else
        {
            meta.PayloadOffset = (ushort)l4;
            return DropReason.None;
        }

        meta.SourcePort = ReadBigEndian16(t);
        meta.DestinationPort = ReadBigEndian16(t + 2);
        meta.PayloadOffset = (ushort)(l4 + headerLength);
        meta.Flags |= PacketFlags.Transport;
        return DropReason.None;
    }

    /// <summary>RFC 1071: the one's-complement sum of a valid header is 0xFFFF.</summary>
    /// <remarks>
    /// The sum is byte-order independent (RFC 1071 §2(B)), so native-order 32-bit loads need no swapping. Folding the
    /// carries back in keeps the value modulo 0xFFFF (2^16 ≡ 1) and ends in 1..0xFFFF for a non-zero sum, so "folds to
    /// 0xFFFF" is "non-zero and divisible by 0xFFFF": one multiply-based remainder instead of four fold steps.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool Ipv4ChecksumValid(byte* ip, uint headerLength)
    {
        ulong sum = (ulong)Unsafe.ReadUnaligned<uint>(ip) + Unsafe.ReadUnaligned<uint>(ip + 4)
            + Unsafe.ReadUnaligned<uint>(ip + 8) + Unsafe.ReadUnaligned<uint>(ip + 12) + Unsafe.ReadUnaligned<uint>(ip + 16);
        for (uint i = Ipv4MinHeaderLength; i < headerLength; i += 4)
        {
            sum += Unsafe.ReadUnaligned<uint>(ip + i);
        }

        return sum % 0xFFFF == 0 && sum != 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ushort ReadBigEndian16(byte* p) => BinaryPrimitives.ReverseEndianness(Unsafe.ReadUnaligned<ushort>(p));
}
