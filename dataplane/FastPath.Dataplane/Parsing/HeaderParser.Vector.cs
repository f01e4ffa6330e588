using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace FastPath.Dataplane.Parsing;

// The vector paths: one loop for every width. A frame of at least 64 bytes whose first 64 bytes match a common
// shape (ParseShapes) and whose lengths and checksum hold gets its record from one shuffle and one 32-byte store;
// every other frame, and every frame shorter than the window, goes to the scalar twin.
public static unsafe partial class HeaderParser
{
    /// <summary>Frames ahead whose first line is prefetched while the current one is parsed.</summary>
    /// <remarks>Frames sit in pool slots the hardware prefetcher cannot predict, and a prefetch of a line already in
    /// L1 costs one load slot. Unproven so far: a 64 MiB cold sweep on the shared 2-core bench machine showed only
    /// noise either way (bench/RESULTS.md, "Parsing"); revisit on a quiet machine.</remarks>
    internal const int PrefetchDistance = 4;

    internal static void ParseVector<TKernel>(ReadOnlySpan<FrameView> frames, Span<PacketMeta> meta)
        where TKernel : struct, IParseKernel<TKernel>
    {
        ref FrameView frame = ref MemoryMarshal.GetReference(frames);
        ref PacketMeta record = ref MemoryMarshal.GetReference(meta);
        nuint count = (nuint)frames.Length;
        for (nuint i = 0; i < count; i++)
        {
            if (Sse.IsSupported && i + PrefetchDistance < count)
            {
                // A prefetch never faults, so the next frames' pointers need no length check.
                Sse.Prefetch0(Unsafe.Add(ref frame, i + PrefetchDistance).Data);
            }

            ref readonly FrameView f = ref Unsafe.Add(ref frame, i);
            ref PacketMeta m = ref Unsafe.Add(ref record, i);
            if (!TryParseCommon<TKernel>(f.Data, f.Length, ref m))
            {
                ParseFrame(f.Data, f.Length, ref m);
            }
        }
    }

    /// <summary>Writes the record and returns true when the frame has a common shape and every check passes;
    /// otherwise writes nothing and leaves the frame to the scalar twin.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool TryParseCommon<TKernel>(byte* p, int length, ref PacketMeta meta)
        where TKernel : struct, IParseKernel<TKernel>
    {
        // 64 ≤ length ≤ 65535: the window load stays inside the frame and every offset fits 16 bits.
        if ((uint)(length - ParseShapes.WindowLength) > ushort.MaxValue - ParseShapes.WindowLength)
        {
            return false;
        }

        TKernel kernel = TKernel.Load(p);
        int shape = kernel.Shape(p);
        if (shape < 0)
        {
            return false;
        }

        uint l3 = (uint)ParseShapes.L3Offset(shape);
        byte* ip = p + l3;
        uint available = (uint)length - l3;
        uint l4;
        uint l4Available;
        uint protocol;
        uint icmp;
        if (shape < 2)
        {
            // Unsigned wrap folds "below the header" and "past the frame" into one compare.
            uint totalLength = ReadBigEndian16(ip + 2);
            if (totalLength - Ipv4MinHeaderLength > available - Ipv4MinHeaderLength || !Ipv4ChecksumValid(ip, Ipv4MinHeaderLength))
            {
                return false;
            }

            protocol = ip[9];
            icmp = ProtocolIcmp;
            l4 = l3 + Ipv4MinHeaderLength;
            l4Available = totalLength - Ipv4MinHeaderLength;
        }
        else
        {
            uint payloadLength = ReadBigEndian16(ip + 4);
            if (payloadLength > available - Ipv6HeaderLength)
            {
                return false;
            }

            protocol = ip[6];
            icmp = ProtocolIcmpv6;
            l4 = l3 + Ipv6HeaderLength;
            l4Available = payloadLength;
        }

        byte* t = p + l4;
        uint tcpHeaderLength = 0;
        int transport;
        if (protocol == ProtocolUdp)
        {
            if (l4Available < 8 || (uint)(ReadBigEndian16(t + 4) - 8) > l4Available - 8)
            {
                return false;
            }

            transport = 0;
        }
        else if (protocol == ProtocolTcp)
        {
            if (l4Available < 20)
            {
                return false;
            }

            tcpHeaderLength = (uint)(t[12] >> 4) * 4;
            if (tcpHeaderLength < 20 || tcpHeaderLength > l4Available)
            {
                return false;
            }

            transport = 1;
        }
        else if (protocol == icmp && l4Available >= 4)
        {
            transport = 2;
        }
        else
        {
            return false;
        }

        kernel.Store((shape * ParseShapes.TransportCount) + transport, ref meta);
        if (transport == 1)
        {
            meta.PayloadOffset += (ushort)tcpHeaderLength;
        }

        return true;
    }
}
