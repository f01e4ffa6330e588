using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Dataplane.Ports.Segmentation;

/// <summary>
/// Software GSO: cuts a TCP (IPv4/IPv6) or UDP (UDP_SEGMENT, "UDP L4") super-frame into wire-sized frames, the
/// way the kernel's tcp_gso_segment / __udp_gso_segment do, for an egress that cannot take the super-frame whole
/// (a TAP without vnet headers, a capture file). Every segment gets the super-frame's headers (Ethernet, an 802.1Q
/// tag if any, IP with options or extension headers, TCP with options) and then, per segment: IPv4 total length,
/// ID (the first segment keeps the super-frame's, each next one adds 1) and header checksum; IPv6 payload length;
/// TCP sequence number (+ segment size per segment), CWR on the first segment only, FIN and PSH on the last only;
/// UDP length; and the transport checksum computed in full over the pseudo-header and the segment.
/// </summary>
/// <remarks>
/// The super-frame's transport checksum field is not read: it holds a partial (pseudo-header) sum or a stale
/// value after the rewrite, and every segment's checksum is computed from scratch.
/// Thread-safe: pure function over caller memory. Cold path next to kernel ports, which hand GSO to the kernel.
/// </remarks>
internal static unsafe class GsoSegmenter
{
    /// <summary>Most segments one super-frame may be cut into (a 64 KiB frame at the smallest IPv4 MSS, 536, makes 123).</summary>
    public const int MaxSegments = 256;

    private const byte TcpFin = 0x01;
    private const byte TcpPsh = 0x08;
    private const byte TcpCwr = 0x80;

    /// <summary>
    /// The bytes <see cref="Segment"/> writes for this frame: every segment's headers plus the payload once, or -1
    /// when the frame cannot be segmented (not a whole TCP or UDP packet, segment size 0, more than
    /// <see cref="MaxSegments"/> segments).
    /// </summary>
    public static int OutputLength(in PacketMeta meta, int segmentSize, out int segments)
    {
        segments = 0;
        if (meta.Verdict != DropReason.None || meta.Fragment != FragmentState.None || segmentSize <= 0
            || meta.Protocol is not (6 or 17) || (meta.Flags & PacketFlags.Transport) == 0
            || meta.IpVersion is not (4 or 6) || meta.PayloadOffset > meta.PacketEnd)
        {
            return -1;
        }

        int payload = meta.PacketEnd - meta.PayloadOffset;
        int count = payload == 0 ? 1 : (payload + segmentSize - 1) / segmentSize;
        if (count > MaxSegments)
        {
            return -1;
        }

        segments = count;
        return (count * meta.PayloadOffset) + payload;
    }

    /// <summary>
    /// Writes the segments of the frame at <paramref name="frame"/> one after another from <paramref name="output"/>
    /// and their views into <paramref name="segments"/>; returns how many, or 0 (nothing written) when the frame
    /// cannot be segmented (<see cref="OutputLength"/> is -1), or the output or the views have no room.
    /// </summary>
    /// <param name="frame">The super-frame, parsed into <paramref name="meta"/> (after any rewrite).</param>
    /// <param name="meta">Its offsets: headers end at PayloadOffset, the IP packet at PacketEnd (padding is dropped).</param>
    /// <param name="segmentSize">Transport payload bytes per segment (virtio_net_hdr gso_size; the TCP MSS).</param>
    /// <param name="output">Where the segments go; must not overlap the frame.</param>
    /// <param name="capacity">Bytes available at <paramref name="output"/>.</param>
    /// <param name="segments">Receives one view per segment.</param>
    public static int Segment(byte* frame, in PacketMeta meta, int segmentSize, byte* output, int capacity, Span<FrameView> segments)
    {
        int total = OutputLength(meta, segmentSize, out int count);
        if (total < 0 || total > capacity || count > segments.Length)
        {
            return 0;
        }

        int headerLength = meta.PayloadOffset;
        int l3 = meta.L3Offset;
        int l4 = meta.L4Offset;
        bool v4 = meta.IpVersion == 4;
        bool tcp = meta.Protocol == 6;
        int payload = meta.PacketEnd - headerLength;
        ushort id = v4 ? BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(frame + l3 + 4, 2)) : (ushort)0;
        uint sequence = tcp ? BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(frame + l4 + 4, 4)) : 0;
        byte flags = tcp ? frame[l4 + 13] : (byte)0;
        int addressLength = v4 ? 4 : 16;

        // The pseudo-header's addresses and protocol are the same for every segment; only the length differs.
        ulong pseudo = BinaryPrimitives.ReverseEndianness((ushort)meta.Protocol);
        for (int i = 0; i < addressLength; i += 4)
        {
            pseudo += Unsafe.ReadUnaligned<uint>(frame + meta.SourceOffset + i);
            pseudo += Unsafe.ReadUnaligned<uint>(frame + meta.DestinationOffset + i);
        }

        byte* at = output;
        int taken = 0;
        for (int s = 0; s < count; s++)
        {
            int chunk = Math.Min(segmentSize, payload - taken);
            bool last = s == count - 1;
            Unsafe.CopyBlockUnaligned(at, frame, (uint)headerLength);
            Unsafe.CopyBlockUnaligned(at + headerLength, frame + headerLength + taken, (uint)chunk);
            int l4Length = headerLength - l4 + chunk;
            if (v4)
            {
                byte* ip = at + l3;
                int ipHeaderLength = (ip[0] & 0xF) * 4;
                WriteBigEndian16(ip + 2, headerLength - l3 + chunk);
                WriteBigEndian16(ip + 4, (ushort)(id + s));
                Unsafe.WriteUnaligned<ushort>(ip + 10, 0);
                Unsafe.WriteUnaligned(ip + 10, IncrementalChecksum.Compute(ip, ipHeaderLength));
            }
            else
            {
                WriteBigEndian16(at + l3 + 4, headerLength - l3 - 40 + chunk);
            }

            byte* transport = at + l4;
            int checksumAt;
            if (tcp)
            {
                BinaryPrimitives.WriteUInt32BigEndian(new Span<byte>(transport + 4, 4), sequence + (uint)taken);
                byte segmentFlags = flags;
                if (s != 0)
                {
                    segmentFlags &= unchecked((byte)~TcpCwr);
                }

                if (!last)
                {
                    segmentFlags &= unchecked((byte)~(TcpFin | TcpPsh));
                }

                transport[13] = segmentFlags;
                checksumAt = 16;
            }
            else
            {
                WriteBigEndian16(transport + 4, l4Length);
                checksumAt = 6;
            }

            Unsafe.WriteUnaligned<ushort>(transport + checksumAt, 0);
            ushort checksum = IncrementalChecksum.Compute(transport, l4Length, pseudo + BinaryPrimitives.ReverseEndianness((ushort)l4Length));
            Unsafe.WriteUnaligned(transport + checksumAt, !tcp && checksum == 0 ? (ushort)0xFFFF : checksum);

            int length = headerLength + chunk;
            segments[s] = new FrameView(at, length);
            at += length;
            taken += chunk;
        }

        return count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteBigEndian16(byte* at, int value) =>
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(at, 2), (ushort)value);
}
