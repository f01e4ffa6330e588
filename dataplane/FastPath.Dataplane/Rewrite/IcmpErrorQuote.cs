using System.Runtime.CompilerServices;
using FastPath.Dataplane.Parsing;

namespace FastPath.Dataplane.Rewrite;

/// <summary>
/// The packet an ICMP or ICMPv6 error quotes (RFC 792, RFC 4443 §2.4(c)): recognising an error, bounding and
/// checking the quote, and rewriting its addresses with every checksum that covers them updated incrementally.
/// </summary>
/// <remarks>
/// The quote is the offending packet as the sender of the error saw it, so it travels in the opposite direction
/// to the error and carries the other environment's addresses until it is translated (RFC 5508 §4.2 asks the same
/// of NATs). Every field read or written lies inside <c>[L4Offset, PacketEnd)</c> of the outer packet: quotes are
/// routinely truncated (576-byte IPv4 errors, 1280-byte ICMPv6 ones), so each inner field is used only if the
/// quote reaches its last byte. All rewritten fields sit at even offsets from the ICMP header (IP headers are
/// multiples of 4 bytes, extension headers of 8), so their native-order deltas add straight into the outer
/// ICMP checksum, and a message that arrived with a wrong checksum leaves with the same error.
/// Thread-safe: pure functions over caller memory.
/// </remarks>
internal static unsafe class IcmpErrorQuote
{
    /// <summary>Bytes of the ICMP / ICMPv6 error header before the quote: type, code, checksum, 4 type-specific bytes.</summary>
    public const int ErrorHeaderLength = 8;

    /// <summary>
    /// Whether a translatable packet is an error that quotes a packet: ICMPv4 type 3 (destination unreachable),
    /// 11 (time exceeded), 12 (parameter problem); ICMPv6 type 1 (destination unreachable), 2 (packet too big),
    /// 3 (time exceeded), 4 (parameter problem). Non-first fragments (no transport header) and ICMP of the other
    /// family (the parser leaves <see cref="PacketMeta.L4ChecksumOffset"/> at 0 for both) are not.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsError(byte* frame, in PacketMeta meta)
    {
        // The protocol first: it is all that UDP and TCP pay in the rewrite loop.
        byte protocol = meta.Protocol;
        if ((protocol != HeaderParser.ProtocolIcmp && protocol != HeaderParser.ProtocolIcmpv6) || meta.L4ChecksumOffset == 0)
        {
            return false;
        }

        byte type = frame[meta.L4Offset];
        return protocol == HeaderParser.ProtocolIcmp ? type is 3 or 11 or 12 : type is >= 1 and <= 4;
    }

    /// <summary>
    /// Finds the quoted packet of an error (<see cref="IsError"/> holds). Returns <see cref="DropReason.Truncated"/>
    /// when the message ends before both quoted addresses, <see cref="DropReason.BadVersion"/> when the quote's
    /// version differs from the outer packet's, <see cref="DropReason.BadIhl"/> for a quoted IHL below 5.
    /// </summary>
    public static DropReason Locate(byte* frame, in PacketMeta meta, out QuotedPacket quote)
    {
        quote = default;
        uint end = meta.PacketEnd;
        uint ip = meta.L4Offset + (uint)ErrorHeaderLength;
        if (meta.IpVersion == 4)
        {
            if (end < ip + HeaderParser.Ipv4MinHeaderLength)
            {
                return DropReason.Truncated;
            }

            byte* header = frame + ip;
            if ((header[0] >> 4) != 4)
            {
                return DropReason.BadVersion;
            }

            uint headerLength = (header[0] & 0xFu) * 4;
            if (headerLength < HeaderParser.Ipv4MinHeaderLength)
            {
                return DropReason.BadIhl;
            }

            quote.SourceOffset = (ushort)(ip + 12);
            quote.DestinationOffset = (ushort)(ip + 16);
            quote.HeaderChecksumOffset = (ushort)(ip + 10);
            bool nonFirstFragment = (HeaderParser.ReadBigEndian16(header + 6) & 0x1FFF) != 0;
            if (!nonFirstFragment)
            {
                LocateTransport(ref quote, header[9], ip + headerLength, end, ipv4: true);
            }

            return DropReason.None;
        }

        if (end < ip + HeaderParser.Ipv6HeaderLength)
        {
            return DropReason.Truncated;
        }

        byte* header6 = frame + ip;
        if ((header6[0] >> 4) != 6)
        {
            return DropReason.BadVersion;
        }

        quote.SourceOffset = (ushort)(ip + 8);
        quote.DestinationOffset = (ushort)(ip + 24);
        uint next = header6[6];
        uint offset = ip + HeaderParser.Ipv6HeaderLength;

        // Hop-by-hop, destination options and a first fragment's header are skipped. A Routing header stops the walk:
        // the transport checksum then covers the final destination named inside it, not the quoted destination, so
        // an incremental update from the quoted addresses would be wrong. A chain that ends outside the quote, or is
        // longer than the parser walks, leaves the transport checksum alone too.
        for (int walked = 0; next is 0 or 60 or 44; walked++)
        {
            if (walked == HeaderParser.MaxExtensionHeaders || end < offset + 8)
            {
                return DropReason.None;
            }

            byte* extension = frame + offset;
            if (next == 44)
            {
                if ((HeaderParser.ReadBigEndian16(extension + 2) & 0xFFF8) != 0)
                {
                    return DropReason.None;
                }

                offset += 8;
            }
            else
            {
                offset += (extension[1] + 1u) * 8;
            }

            next = extension[0];
        }

        LocateTransport(ref quote, next, offset, end, ipv4: false);
        return DropReason.None;
    }

    /// <summary>
    /// Replaces the quoted source and/or destination (null keeps it), updates the quoted IPv4 header checksum, the
    /// quoted transport checksum when <see cref="QuotedPacket.L4ChecksumOffset"/> is set, and the outer ICMP checksum
    /// by every 16-bit word of the message body that changed. The quoted TTL is left as the sender saw it.
    /// </summary>
    public static void Apply(byte* frame, in PacketMeta meta, in QuotedPacket quote, byte* newSource, byte* newDestination)
    {
        ulong addressDelta = HeaderRewriter.ReplaceAddresses(frame, quote.SourceOffset, quote.DestinationOffset, newSource, newDestination, meta.IpVersion == 4 ? 4 : 16);

        if (addressDelta == 0)
        {
            return;
        }

        // The outer checksum sums the message body, so it sees the address words and every checksum word below.
        ulong bodyDelta = addressDelta;
        if (quote.HeaderChecksumOffset != 0)
        {
            bodyDelta += UpdateField(frame + quote.HeaderChecksumOffset, addressDelta, zeroMeansNone: false);
        }

        if (quote.L4ChecksumOffset != 0)
        {
            bodyDelta += UpdateField(frame + quote.L4ChecksumOffset, addressDelta, quote.ZeroMeansNone);
        }

        ushort* outer = (ushort*)(frame + meta.L4ChecksumOffset);
        Unsafe.WriteUnaligned(outer, IncrementalChecksum.Apply(Unsafe.ReadUnaligned<ushort>(outer), bodyDelta));
    }

    /// <summary>Applies <paramref name="delta"/> to the checksum field at <paramref name="field"/>; returns the field's own delta.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong UpdateField(byte* field, ulong delta, bool zeroMeansNone)
    {
        ushort old = Unsafe.ReadUnaligned<ushort>(field);
        if (zeroMeansNone && old == 0)
        {
            // RFC 768: an IPv4 UDP checksum of 0 means "none" and stays 0.
            return 0;
        }

        ushort updated = IncrementalChecksum.Apply(old, delta);
        if (zeroMeansNone && updated == 0)
        {
            updated = 0xFFFF;
        }

        Unsafe.WriteUnaligned(field, updated);
        return IncrementalChecksum.Delta(old, updated);
    }

    /// <summary>Sets the transport checksum offset when the quote reaches the field's last byte and the protocol has a pseudo-header.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LocateTransport(ref QuotedPacket quote, uint protocol, uint l4, uint end, bool ipv4)
    {
        uint field;
        if (protocol == HeaderParser.ProtocolUdp)
        {
            field = l4 + 6;
            quote.ZeroMeansNone = ipv4;
        }
        else if (protocol == HeaderParser.ProtocolTcp)
        {
            field = l4 + 16;
        }
        else if (protocol == HeaderParser.ProtocolIcmpv6 && !ipv4)
        {
            field = l4 + 2;
        }
        else
        {
            return;
        }

        if (field + 2 <= end)
        {
            quote.L4ChecksumOffset = (ushort)field;
        }
    }
}
