using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Parsing;
using static FastPath.Dataplane.Interop.LinuxConstants;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// Receive side: walks TPACKET_V3 blocks and hands out each frame where the kernel wrote it (zero copy), with the
/// offload work its <c>virtio_net_hdr</c> (PACKET_VNET_HDR) names: a 64 KiB TSO/GRO super-frame stays one frame.
/// </summary>
public sealed unsafe partial class AfPacketPort
{
    /// <summary>
    /// Longest frame handed out: offsets in <see cref="PacketMeta"/> are 16-bit, and the largest IPv4 packet behind an
    /// 802.1Q tag (18 + 65535 bytes) ends past them. Longer frames (a kernel with BIG TCP) are dropped as too big.
    /// </summary>
    private const int MaxFrameLength = ushort.MaxValue;

    private byte* _rxRing;
    private int _rxBlockSize;
    private int _rxBlockCount;
    private int _rxBlock;           // The block being read, or the next one to wait for.
    private byte* _rxNext;          // Header of the next frame in _rxBlock.
    private uint _rxLeft;           // Frames of _rxBlock not read yet; 0 = _rxBlock is not ours.
    private int _rxHeld;            // Blocks before _rxBlock whose frames the caller may still be using.
    private long* _drops;           // The owning worker's drop counters, once attached.

    /// <inheritdoc />
    /// <remarks>
    /// Frames stay in the RX ring: each <see cref="FrameView"/> points into a block the port keeps until its next
    /// <see cref="Receive"/>, which is when the blocks read to the end in this call go back to the kernel; the
    /// buffers are not used. A frame the kernel cut short (longer than a ring block holds) or longer than
    /// <see cref="MaxFrameLength"/> is dropped as <see cref="DropReason.TooBig"/> (and in
    /// <see cref="PortCounters.RxTooBig"/>). A VLAN tag the kernel moved into the frame's metadata (802.1Q acceleration
    /// on veth and most NICs) is put back in place, in the room the virtio_net_hdr leaves in front of the frame, so the
    /// caller sees the frame as it was on the wire. The offload is carried, not done: a GSO super-frame keeps its
    /// segment size and a checksum left to offload (TP_STATUS_CSUMNOTREADY, counted in
    /// <see cref="PortCounters.RxChecksumPartial"/>) stays partial, for the egress to finish.
    /// </remarks>
    public override int Receive(ReadOnlySpan<RxBuffer> buffers, Span<FrameView> frames)
    {
        if (frames.Length < buffers.Length)
        {
            PortThrowHelper.ThrowFramesShorterThanBuffers();
        }

        ReturnHeldBlocks();
        ref FrameView received0 = ref MemoryMarshal.GetReference(frames);
        int wanted = buffers.Length;
        int count = 0;
        long bytes = 0;
        int tooBig = 0;
        int partial = 0;
        while (count < wanted)
        {
            if (_rxLeft == 0 && !TakeBlock())
            {
                break;
            }

            TPacket3Hdr* header = (TPacket3Hdr*)_rxNext;
            uint status = header->Status;
            int snap = (int)header->SnapLength;
            byte* data = (byte*)header + header->MacOffset;
            bool tagged = (status & TpStatusVlanValid) != 0;
            int length = tagged ? snap + 4 : snap;
            if (snap < (int)header->Length || length > MaxFrameLength || snap < EthHeaderLength)
            {
                tooBig++;
            }
            else
            {
                // The kernel wrote the header just in front of the frame; read it before a restored tag covers it.
                VirtioNetHdr* vnet = (VirtioNetHdr*)(data - VirtioNetHdr.Size);
                FrameOffload offload = Offload(vnet, status);
                partial += (int)(offload.Flags & OffloadFlags.ChecksumPartial);
                if (tagged)
                {
                    // MACs move 4 bytes forward into the header's room, then the tag the kernel lifted out goes in
                    // between them and the EtherType. 6 bytes of the header stay in front for a VLAN push.
                    ushort tpid = (status & TpStatusVlanTpidValid) != 0 ? header->VlanTpid : EthP8021Q;
                    Buffer.MemoryCopy(data, data - 4, 12, 12);
                    data -= 4;
                    BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(data + 12, 2), tpid);
                    BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(data + 14, 2), (ushort)header->VlanTci);
                }

                Unsafe.Add(ref received0, count) = new FrameView(data, length, offload);
                bytes += length;
                count++;
            }

            _rxNext += header->NextOffset;
            if (--_rxLeft == 0)
            {
                // Its frames are the caller's until the next call.
                _rxHeld++;
                _rxBlock = _rxBlock + 1 == _rxBlockCount ? 0 : _rxBlock + 1;
            }
        }

        PortCounters counters = Counters;
        counters._rxPackets += count;
        counters._rxBytes += bytes;
        counters._rxChecksumPartial += partial;
        if (tooBig != 0)
        {
            CountTooBig(tooBig);
        }

        return count;
    }

    /// <inheritdoc />
    internal override void AttachDropCounters(long* drops) => _drops = drops;

    /// <summary>The offload work a received virtio_net_hdr names; GSO types other than TCP and UDP L4 never get here (the kernel drops them).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static FrameOffload Offload(VirtioNetHdr* vnet, uint status)
    {
        OffloadFlags flags = (vnet->Flags & VirtioNetHdrFNeedsCsum) != 0 || (status & TpStatusCsumNotReady) != 0
            ? OffloadFlags.ChecksumPartial
            : OffloadFlags.None;
        GsoKind kind = (vnet->GsoType & ~VirtioNetHdrGsoEcn) switch
        {
            VirtioNetHdrGsoTcpV4 => GsoKind.TcpV4,
            VirtioNetHdrGsoTcpV6 => GsoKind.TcpV6,
            VirtioNetHdrGsoUdpL4 => GsoKind.UdpL4,
            _ => GsoKind.None,
        };
        return new FrameOffload(kind, kind == GsoKind.None ? (ushort)0 : vnet->GsoSize, flags);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CountTooBig(int frames)
    {
        Counters._rxTooBig += frames;
        if (_drops != null)
        {
            _drops[(int)DropReason.TooBig] += frames;
        }
    }

    private void InitializeReceive(byte* ring, int blockSize, int blockCount)
    {
        _rxRing = ring;
        _rxBlockSize = blockSize;
        _rxBlockCount = blockCount;
        _rxBlock = 0;
        _rxNext = null;
        _rxLeft = 0;
        _rxHeld = 0;
    }

    /// <summary>Makes <c>_rxBlock</c> ours if the kernel has retired it; false when it is still the kernel's.</summary>
    private bool TakeBlock()
    {
        if (_rxRing == null)
        {
            return false;
        }

        while (true)
        {
            TPacketBlockDesc* block = Block(_rxBlock);

            // Acquire, pairs with the kernel's smp_wmb() + status store in prb_close_block(): the frames and the
            // block header are complete before we see TP_STATUS_USER.
            if ((Volatile.Read(ref block->BlockStatus) & TpStatusUser) == 0)
            {
                return false;
            }

            _rxLeft = block->PacketCount;
            _rxNext = (byte*)block + block->OffsetToFirstPacket;
            if (_rxLeft != 0)
            {
                return true;
            }

            Volatile.Write(ref block->BlockStatus, (uint)TpStatusKernel);
            _rxBlock = _rxBlock + 1 == _rxBlockCount ? 0 : _rxBlock + 1;
        }
    }

    /// <summary>Gives the kernel back the blocks whose frames the previous <see cref="Receive"/> handed out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ReturnHeldBlocks()
    {
        for (; _rxHeld > 0; _rxHeld--)
        {
            int index = _rxBlock - _rxHeld;
            TPacketBlockDesc* block = Block(index < 0 ? index + _rxBlockCount : index);

            // Release, pairs with the kernel's read of block_status before it refills the block: every use of the
            // block's frames (parse, rewrite, the copy into a send) is done before the kernel may overwrite it.
            Volatile.Write(ref block->BlockStatus, (uint)TpStatusKernel);
        }
    }

    private TPacketBlockDesc* Block(int index) => (TPacketBlockDesc*)(_rxRing + ((nint)index * _rxBlockSize));
}
