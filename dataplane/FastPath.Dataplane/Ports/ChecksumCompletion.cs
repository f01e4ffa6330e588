using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// Completes the transport checksum of a frame the kernel handed over with checksum offload still pending
/// (AF_PACKET's <c>TP_STATUS_CSUMNOTREADY</c>: a veth peer or local sender left <c>CHECKSUM_PARTIAL</c>, so the
/// field holds only the pseudo-header sum). Such a frame is valid on the host that made it but not on the wire;
/// an egress that cannot hand the work on (a TAP, a capture file: <see cref="Segmentation.SoftwareOffload"/>)
/// finishes it, so the frame leaves as a NIC would have sent it.
/// </summary>
/// <remarks>Thread-safe: pure function over caller memory. Cold path: AF_PACKET egresses hand the work to the kernel.</remarks>
internal static unsafe class ChecksumCompletion
{
    /// <summary>Recomputes the TCP, UDP or ICMPv6 checksum of the frame in place; other frames are left alone.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Complete(byte* frame, int length)
    {
        PacketMeta meta = default;
        var view = new FrameView(frame, length);
        HeaderParser.Parse(ParserPath.Scalar, new ReadOnlySpan<FrameView>(in view), new Span<PacketMeta>(ref meta));
        if (meta.Verdict != DropReason.None || meta.L4ChecksumOffset == 0 || meta.Fragment != FragmentState.None
            || meta.Protocol is not (6 or 17 or 58))
        {
            return;
        }

        int addressLength = meta.IpVersion == 4 ? 4 : 16;
        int l4Length = meta.PacketEnd - meta.L4Offset;
        ulong pseudo = 0;
        for (int i = 0; i < addressLength; i += 4)
        {
            pseudo += Unsafe.ReadUnaligned<uint>(frame + meta.SourceOffset + i);
            pseudo += Unsafe.ReadUnaligned<uint>(frame + meta.DestinationOffset + i);
        }

        // Protocol and length words, in network order as the sum reads them natively.
        pseudo += BinaryPrimitives.ReverseEndianness((ushort)meta.Protocol);
        pseudo += BinaryPrimitives.ReverseEndianness((ushort)l4Length);
        Unsafe.WriteUnaligned<ushort>(frame + meta.L4ChecksumOffset, 0);
        ushort checksum = IncrementalChecksum.Compute(frame + meta.L4Offset, l4Length, pseudo);
        Unsafe.WriteUnaligned(frame + meta.L4ChecksumOffset, meta.Protocol == 17 && checksum == 0 ? (ushort)0xFFFF : checksum);
    }
}
