using FastPath.Dataplane.Parsing;
using System.Buffers.Binary;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// Builds Ethernet (optionally 802.1Q) + IPv4/IPv6 + UDP frames with every checksum computed, and re-stamps a
/// built frame's source address and port with incremental checksum updates (RFC 1624), so a generator can
/// walk through flows without rebuilding frames. The traffic generator and the in-memory generator port share it.
/// </summary>
/// <remarks>Thread-safe: stateless; each call touches only the caller's buffer.</remarks>
internal static class UdpFrameBuilder
{
    // Header sizes are the parser's; a built frame has a 20-byte IPv4 header (no options) and no extension headers.
    internal const int EthernetHeaderLength = HeaderParser.EthernetHeaderLength;
    internal const int VlanTagLength = HeaderParser.VlanTagLength;
    internal const int Ipv4HeaderLength = HeaderParser.Ipv4MinHeaderLength;
    internal const int Ipv6HeaderLength = HeaderParser.Ipv6HeaderLength;
    internal const int UdpHeaderLength = 8;

    /// <summary>TTL / hop limit of generated packets: the Linux default, far from the translator's TTL ≤ 1 drop.</summary>
    internal const byte HopLimit = 64;

    /// <summary>Frame length (no FCS) for an address family, tag choice and UDP payload length.</summary>
    internal static int FrameLength(bool ipv6, bool tagged, int payloadLength) =>
        EthernetHeaderLength + (tagged ? VlanTagLength : 0) + (ipv6 ? Ipv6HeaderLength : Ipv4HeaderLength) + UdpHeaderLength + payloadLength;

    /// <summary>
    /// Writes one frame into <paramref name="destination"/> and returns its length. <paramref name="vlanId"/> 0 means
    /// untagged (tenant 0), 1–4094 adds an 802.1Q tag with priority 0. Both addresses are 4 bytes (IPv4) or both 16
    /// (IPv6). The payload is the byte pattern 0, 1, 2, … so a receiver can check it. IPv4 packets carry DF and ID 0.
    /// </summary>
    internal static int Write(
        Span<byte> destination,
        ReadOnlySpan<byte> sourceMac,
        ReadOnlySpan<byte> destinationMac,
        ushort vlanId,
        ReadOnlySpan<byte> sourceAddress,
        ReadOnlySpan<byte> destinationAddress,
        ushort sourcePort,
        ushort destinationPort,
        int payloadLength)
    {
        if (sourceMac.Length != 6 || destinationMac.Length != 6)
        {
            throw new ArgumentException("a MAC address has 6 bytes");
        }

        if (sourceAddress.Length != destinationAddress.Length || (sourceAddress.Length != 4 && sourceAddress.Length != 16))
        {
            throw new ArgumentException("source and destination must both be IPv4 (4 bytes) or both IPv6 (16 bytes)");
        }

        if (vlanId > Tenant.Max)
        {
            throw new ArgumentOutOfRangeException(nameof(vlanId), vlanId, $"a VLAN ID is 1 to {Tenant.Max} (0 = untagged)");
        }

        bool ipv6 = sourceAddress.Length == 16;
        int udpLength = UdpHeaderLength + payloadLength;
        if (payloadLength < 0 || udpLength > ushort.MaxValue - (ipv6 ? 0 : Ipv4HeaderLength))
        {
            throw new ArgumentOutOfRangeException(nameof(payloadLength), payloadLength, "the UDP payload does not fit an IP packet");
        }

        int length = FrameLength(ipv6, vlanId != 0, payloadLength);
        Span<byte> frame = destination[..length];
        destinationMac.CopyTo(frame);
        sourceMac.CopyTo(frame[6..]);
        int offset = 12;
        if (vlanId != 0)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame[12..], 0x8100);
            BinaryPrimitives.WriteUInt16BigEndian(frame[14..], vlanId);
            offset = 16;
        }

        BinaryPrimitives.WriteUInt16BigEndian(frame[offset..], ipv6 ? (ushort)0x86DD : (ushort)0x0800);
        Span<byte> ip = frame[(offset + 2)..];
        Span<byte> udp;
        if (ipv6)
        {
            BinaryPrimitives.WriteUInt32BigEndian(ip, 0x6000_0000);
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)udpLength);
            ip[6] = 17;
            ip[7] = HopLimit;
            sourceAddress.CopyTo(ip[8..]);
            destinationAddress.CopyTo(ip[24..]);
            udp = ip[Ipv6HeaderLength..];
        }
        else
        {
            ip[0] = 0x45;
            ip[1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(Ipv4HeaderLength + udpLength));
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], 0);
            BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0x4000);
            ip[8] = HopLimit;
            ip[9] = 17;
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], 0);
            sourceAddress.CopyTo(ip[12..]);
            destinationAddress.CopyTo(ip[16..]);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Fold(Sum(ip[..Ipv4HeaderLength])));
            udp = ip[Ipv4HeaderLength..];
        }

        BinaryPrimitives.WriteUInt16BigEndian(udp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)udpLength);
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], 0);
        Span<byte> payload = udp.Slice(UdpHeaderLength, payloadLength);
        for (int i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)i;
        }

        // Pseudo-header: both addresses, protocol 17, UDP length (RFC 768 / RFC 8200 §8.1).
        ulong sum = Sum(sourceAddress) + Sum(destinationAddress) + 17u + (uint)udpLength + Sum(udp[..udpLength]);
        ushort checksum = Fold(sum);
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], checksum == 0 ? (ushort)0xFFFF : checksum);
        return length;
    }

    /// <summary>
    /// Replaces the source address and UDP source port of a frame written by <see cref="Write"/> and updates the
    /// IPv4 header and UDP checksums incrementally (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')). A few adds per
    /// packet instead of a pass over the payload.
    /// </summary>
    internal static void RewriteSource(Span<byte> frame, ReadOnlySpan<byte> sourceAddress, ushort sourcePort)
    {
        int offset = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]) == 0x8100 ? 16 : 12;
        bool ipv6 = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]) == 0x86DD;
        Span<byte> ip = frame[(offset + 2)..];
        Span<byte> oldSource = ipv6 ? ip.Slice(8, 16) : ip.Slice(12, 4);
        Span<byte> udp = ip[(ipv6 ? Ipv6HeaderLength : Ipv4HeaderLength)..];
        if (sourceAddress.Length != oldSource.Length)
        {
            throw new ArgumentException("the new source address is not of the frame's family");
        }

        // ~m + m' over the changed 16-bit words, shared by both checksums that cover the address.
        ulong addressDelta = 0;
        for (int i = 0; i < oldSource.Length; i += 2)
        {
            addressDelta += (ushort)~BinaryPrimitives.ReadUInt16BigEndian(oldSource[i..]);
            addressDelta += BinaryPrimitives.ReadUInt16BigEndian(sourceAddress[i..]);
        }

        if (!ipv6)
        {
            ushort header = BinaryPrimitives.ReadUInt16BigEndian(ip[10..]);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], Fold((ushort)~header + addressDelta));
        }

        ushort oldPort = BinaryPrimitives.ReadUInt16BigEndian(udp);
        ushort udpChecksum = BinaryPrimitives.ReadUInt16BigEndian(udp[6..]);
        if (udpChecksum != 0 || ipv6)
        {
            ushort updated = Fold((ushort)~udpChecksum + addressDelta + (ushort)~oldPort + sourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(udp[6..], updated == 0 ? (ushort)0xFFFF : updated);
        }

        sourceAddress.CopyTo(oldSource);
        BinaryPrimitives.WriteUInt16BigEndian(udp, sourcePort);
    }

    /// <summary>One's complement sum of big-endian 16-bit words (an odd last byte is padded with zero), unfolded.</summary>
    internal static ulong Sum(ReadOnlySpan<byte> data)
    {
        ulong sum = 0;
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }

        if (i < data.Length)
        {
            sum += (uint)data[i] << 8;
        }

        return sum;
    }

    /// <summary>Folds a sum to 16 bits and complements it: the value that goes into a checksum field.</summary>
    internal static ushort Fold(ulong sum)
    {
        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
