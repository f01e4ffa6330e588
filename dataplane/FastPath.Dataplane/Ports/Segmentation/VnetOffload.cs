using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Rewrite;
using static FastPath.Dataplane.Interop.LinuxConstants;

namespace FastPath.Dataplane.Ports.Segmentation;

/// <summary>
/// The <c>virtio_net_hdr</c> a frame leaves with through a PACKET_VNET_HDR socket, made from its offload state and
/// its rewritten headers, so that the kernel (or the device after it) segments a super-frame and fills in a partial
/// checksum instead of the worker. hdr_len, csum_start and csum_offset come from the frame's <see cref="PacketMeta"/>,
/// which the rewrite kept true; the checksum field is set to the pseudo-header sum of the translated addresses.
/// </summary>
/// <remarks>
/// Rules, in order: a plain frame that fits the MTU leaves with an empty header; a partial checksum is handed on
/// (NEEDS_CSUM); a TCP super-frame is handed on with its segment size, cut down so every segment fits the egress MTU
/// (TCP may be cut anywhere); a TCP frame longer than the MTU without GSO becomes a GSO frame of MTU-sized segments;
/// a UDP L4 super-frame whose datagrams do not fit, and any other frame longer than the MTU, is too big.
/// Thread-safe: pure function over caller memory.
/// </remarks>
internal static unsafe class VnetOffload
{
    /// <summary>Fills <paramref name="header"/> for <paramref name="frame"/>; returns why the frame cannot leave, or <see cref="DropReason.None"/>.</summary>
    /// <param name="frame">The frame, with its offload state.</param>
    /// <param name="meta">Its parsed and rewritten metadata, or null when the caller has none.</param>
    /// <param name="mtu">The egress MTU (IP packet bytes).</param>
    /// <param name="header">The header to send in front of the frame.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DropReason Prepare(FrameView frame, PacketMeta* meta, int mtu, out VirtioNetHdr header)
    {
        header = default;
        FrameOffload offload = frame.Offload;
        if (offload.IsNone && frame.Length <= mtu + EthHeaderLength)
        {
            return DropReason.None;
        }

        return PrepareOffload(frame, meta, mtu, ref header);
    }

    /// <summary>The pseudo-header sum (not complemented) a NEEDS_CSUM transport checksum field holds, for the frame's translated addresses and length.</summary>
    public static ushort PseudoHeaderSum(byte* frame, in PacketMeta meta)
    {
        int addressLength = meta.IpVersion == 4 ? 4 : 16;
        ulong sum = BinaryPrimitives.ReverseEndianness((ushort)meta.Protocol);
        sum += BinaryPrimitives.ReverseEndianness((ushort)(meta.PacketEnd - meta.L4Offset));
        for (int i = 0; i < addressLength; i += 4)
        {
            sum += Unsafe.ReadUnaligned<uint>(frame + meta.SourceOffset + i);
            sum += Unsafe.ReadUnaligned<uint>(frame + meta.DestinationOffset + i);
        }

        return IncrementalChecksum.Fold(sum);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static DropReason PrepareOffload(FrameView frame, PacketMeta* meta, int mtu, ref VirtioNetHdr header)
    {
        FrameOffload offload = frame.Offload;
        bool tagged = frame.Length >= EthHeaderLength && BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(frame.Data + 12, 2)) == EthP8021Q;
        bool fits = frame.Length <= mtu + EthHeaderLength + (tagged ? 4 : 0);
        if (offload.IsNone && fits)
        {
            return DropReason.None;
        }

        if (meta == null)
        {
            // Nothing to derive the offsets from: a plain frame that fits goes as it is, nothing else can.
            return fits && offload.GsoType == GsoKind.None ? DropReason.None : DropReason.TooBig;
        }

        bool tcp = meta->Protocol == 6;
        bool transport = (tcp || meta->Protocol == 17) && (meta->Flags & PacketFlags.Transport) != 0
            && meta->Fragment == FragmentState.None && meta->L4ChecksumOffset != 0 && meta->IpVersion is 4 or 6;
        int headers = meta->PayloadOffset - meta->L3Offset;
        byte gsoType = VirtioNetHdrGsoNone;
        int gsoSize = 0;
        if (offload.GsoType != GsoKind.None || !fits)
        {
            if (!transport || (offload.GsoType == GsoKind.UdpL4) == tcp)
            {
                return fits ? DropReason.Unsupported : DropReason.TooBig;
            }

            int largest = mtu - headers;
            gsoSize = offload.GsoType == GsoKind.None ? largest : offload.GsoSize;
            if (largest <= 0 || gsoSize <= 0)
            {
                return DropReason.TooBig;
            }

            if (gsoSize > largest)
            {
                if (!tcp)
                {
                    // UDP L4 segments are the sender's datagrams: they cannot be cut smaller.
                    return DropReason.TooBig;
                }

                gsoSize = largest;
            }

            gsoType = !tcp ? VirtioNetHdrGsoUdpL4 : meta->IpVersion == 4 ? VirtioNetHdrGsoTcpV4 : VirtioNetHdrGsoTcpV6;
            if (tcp && (frame.Data[meta->L4Offset + 13] & 0x80) != 0)
            {
                // CWR set: the segments must not all carry it (SKB_GSO_TCP_ECN).
                gsoType |= VirtioNetHdrGsoEcn;
            }
        }
        else if (!transport)
        {
            // A partial checksum the parser cannot place (not TCP or UDP): it could only leave wrong.
            return DropReason.Unsupported;
        }

        Unsafe.WriteUnaligned(frame.Data + meta->L4ChecksumOffset, PseudoHeaderSum(frame.Data, *meta));
        header.Flags = VirtioNetHdrFNeedsCsum;
        header.GsoType = gsoType;
        header.GsoSize = (ushort)gsoSize;
        header.HdrLen = meta->PayloadOffset;
        header.CsumStart = meta->L4Offset;
        header.CsumOffset = (ushort)(meta->L4ChecksumOffset - meta->L4Offset);
        return DropReason.None;
    }
}
