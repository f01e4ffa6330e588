using System.Buffers.Binary;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Parsing;
using static FastPath.Dataplane.Interop.LinuxConstants;

namespace FastPath.Dataplane.Ports.Segmentation;

/// <summary>
/// Offload done in software for an egress that takes neither GSO nor partial checksums (a TAP without vnet headers):
/// a super-frame, or a TCP frame longer than the MTU, is cut into segments that fit (<see cref="GsoSegmenter"/>), and a
/// partial checksum is completed (<see cref="ChecksumCompletion"/>). Frames that need nothing pass untouched.
/// </summary>
/// <remarks>
/// Concurrency: one instance per port, used by the port's owner thread. The segment memory is allocated once (enough
/// for a 64 KiB super-frame's worth of segments) and reused by every <see cref="Prepare"/>.
/// </remarks>
internal sealed unsafe class SoftwareOffload : IDisposable
{
    /// <summary>Segment memory: the largest super-frame plus a header per segment at the smallest segment sizes.</summary>
    private const int ScratchSize = 1 << 18;

    private readonly FrameView[] _segments = new FrameView[GsoSegmenter.MaxSegments];
    private byte* _scratch = (byte*)NativeMemory.AlignedAlloc(ScratchSize, 64);

    ~SoftwareOffload() => Release();

    /// <summary>The frames to send in place of the one given to the last <see cref="Prepare"/> that returned <paramref name="count"/>.</summary>
    public ReadOnlySpan<FrameView> Frames(int count) => _segments.AsSpan(0, count);

    /// <summary>
    /// Readies <paramref name="frame"/> for an egress of MTU <paramref name="mtu"/>: returns how many frames to send
    /// (<see cref="Frames"/>: the frame itself, or its segments), or 0 with the reason it cannot leave.
    /// </summary>
    /// <param name="frame">The frame and its offload state; a partial checksum is completed in place.</param>
    /// <param name="meta">Its parsed and rewritten metadata, or null when the caller has none.</param>
    /// <param name="mtu">The egress MTU.</param>
    /// <param name="refusal">Why the frame cannot leave, when 0 is returned.</param>
    public int Prepare(FrameView frame, PacketMeta* meta, int mtu, out DropReason refusal)
    {
        refusal = DropReason.None;
        FrameOffload offload = frame.Offload;
        bool tagged = frame.Length >= EthHeaderLength && BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(frame.Data + 12, 2)) == EthP8021Q;
        bool fits = frame.Length <= mtu + EthHeaderLength + (tagged ? 4 : 0);
        if (fits && offload.GsoType == GsoKind.None)
        {
            if ((offload.Flags & OffloadFlags.ChecksumPartial) != 0)
            {
                ChecksumCompletion.Complete(frame.Data, frame.Length);
            }

            _segments[0] = new FrameView(frame.Data, frame.Length);
            return 1;
        }

        bool tcp = meta != null && meta->Protocol == 6;
        if (meta == null || (offload.GsoType == GsoKind.UdpL4) == tcp)
        {
            // Not TCP, and not a UDP L4 super-frame: nothing says where it may be cut.
            refusal = DropReason.TooBig;
            return 0;
        }

        int largest = mtu - (meta->PayloadOffset - meta->L3Offset);
        int size = offload.GsoType == GsoKind.None ? largest : offload.GsoSize;
        if (size > largest && tcp)
        {
            size = largest;
        }

        int count = size <= 0 || size > largest ? 0 : GsoSegmenter.Segment(frame.Data, *meta, size, _scratch, ScratchSize, _segments);
        if (count == 0)
        {
            refusal = DropReason.TooBig;
        }

        return count;
    }

    public void Dispose()
    {
        Release();
        GC.SuppressFinalize(this);
    }

    private void Release()
    {
        NativeMemory.AlignedFree(_scratch);
        _scratch = null;
    }
}
