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
    private int _rxBlockSize;       // Bytes between two kernel blocks.
    private int _rxBlockCount;      // Slots in the ring: blocks of a block ring, frames of a frame ring.
    private int _rxSlotsPerBlock;   // 1 for a block ring.
    private int _rxSlotSize;        // Bytes between two slots of one block.
    private int _rxBlock;           // The slot being read, or the next one to wait for.
    private byte* _rxNext;          // Header of the next frame in _rxBlock.
    private uint _rxLeft;           // Frames of _rxBlock not read yet; 0 = _rxBlock is not ours.
    private int _rxHeld;            // Blocks (frames) before _rxBlock the caller may still be using.
    private bool _rxFrames;         // A TPACKET_V2 frame ring: each "block" is one frame.
    private long* _drops;           // The owning worker's drop counters, once attached.

    /// <inheritdoc />
    /// <remarks>
    /// Frames stay in the RX ring: each <see cref="FrameView"/> points into ring memory the port keeps until its next
    /// <see cref="Receive"/>, which is when the frames (or blocks) read in this call go back to the kernel; the
    /// buffers are not used. A frame the kernel cut short (longer than a ring frame or block holds) or longer than
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

        ReturnHeld();
        var batch = default(RxBatch);
        ref FrameView received0 = ref MemoryMarshal.GetReference(frames);
        int wanted = buffers.Length;
        if (_rxFrames)
        {
            // Never past the frames still held: after a whole lap the next one is the first this call handed out.
            while (batch.Count < wanted && _rxHeld < _rxBlockCount)
            {
                TPacket2Hdr* header = (TPacket2Hdr*)Slot(_rxBlock);

                // Acquire, pairs with the kernel's smp_wmb() + status store in __packet_set_status(): the frame, its
                // virtio_net_hdr and the header fields are written before we see TP_STATUS_USER.
                uint status = Volatile.Read(ref header->Status);
                if ((status & TpStatusUser) == 0)
                {
                    break;
                }

                Deliver(ref received0, ref batch, (byte*)header + header->MacOffset, (int)header->SnapLength, (int)header->Length, status, header->VlanTci, header->VlanTpid);
                _rxHeld++;
                _rxBlock = _rxBlock + 1 == _rxBlockCount ? 0 : _rxBlock + 1;
            }
        }
        else
        {
            while (batch.Count < wanted)
            {
                if (_rxLeft == 0 && (_rxHeld == _rxBlockCount || !TakeBlock()))
                {
                    break;
                }

                TPacket3Hdr* header = (TPacket3Hdr*)_rxNext;
                Deliver(ref received0, ref batch, (byte*)header + header->MacOffset, (int)header->SnapLength, (int)header->Length, header->Status, (ushort)header->VlanTci, header->VlanTpid);
                _rxNext += header->NextOffset;
                if (--_rxLeft == 0)
                {
                    // Its frames are the caller's until the next call.
                    _rxHeld++;
                    _rxBlock = _rxBlock + 1 == _rxBlockCount ? 0 : _rxBlock + 1;
                }
            }
        }

        PortCounters counters = Counters;
        counters._rxPackets += batch.Count;
        counters._rxBytes += batch.Bytes;
        counters._rxChecksumPartial += batch.Partial;
        if (batch.TooBig != 0)
        {
            CountTooBig(batch.TooBig);
        }

        return batch.Count;
    }

    /// <inheritdoc />
    internal override void AttachDropCounters(long* drops) => _drops = drops;

    /// <summary>Hands out one ring frame (or counts it as too big): VLAN tag restored in place, offload read from its virtio_net_hdr.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Deliver(ref FrameView received0, ref RxBatch batch, byte* data, int snap, int wire, uint status, ushort tci, ushort tpid)
    {
        bool tagged = (status & TpStatusVlanValid) != 0;
        int length = tagged ? snap + 4 : snap;
        if (snap < wire || length > MaxFrameLength || snap < EthHeaderLength)
        {
            batch.TooBig++;
            return;
        }

        // The kernel wrote the header just in front of the frame; read it before a restored tag covers it.
        FrameOffload offload = Offload((VirtioNetHdr*)(data - VirtioNetHdr.Size), status);
        batch.Partial += (int)(offload.Flags & OffloadFlags.ChecksumPartial);
        if (tagged)
        {
            // MACs move 4 bytes forward into the header's room, then the tag the kernel lifted out goes in between
            // them and the EtherType. 6 bytes of the header stay in front for a VLAN push.
            Buffer.MemoryCopy(data, data - 4, 12, 12);
            data -= 4;
            BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(data + 12, 2), (status & TpStatusVlanTpidValid) != 0 ? tpid : EthP8021Q);
            BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(data + 14, 2), tci);
        }

        Unsafe.Add(ref received0, batch.Count) = new FrameView(data, length, offload);
        batch.Bytes += length;
        batch.Count++;
    }

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

    private void InitializeReceive(byte* ring, int blockSize, int blockCount, int frameSize, bool frames)
    {
        _rxFrames = frames;
        _rxRing = ring;
        _rxBlockSize = blockSize;
        _rxSlotsPerBlock = frames ? blockSize / frameSize : 1;
        _rxSlotSize = frames ? frameSize : blockSize;
        _rxBlockCount = blockCount * _rxSlotsPerBlock;
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

    /// <summary>Gives the kernel back the frames or blocks whose frames the previous <see cref="Receive"/> handed out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ReturnHeld()
    {
        for (; _rxHeld > 0; _rxHeld--)
        {
            int index = _rxBlock - _rxHeld;
            byte* at = Slot(index < 0 ? index + _rxBlockCount : index);

            // Release, pairs with the kernel's read of the status word before it refills the frame or block: every use
            // of the frames (parse, rewrite, the copy into a send) is done before the kernel may overwrite them.
            uint* word = _rxFrames ? &((TPacket2Hdr*)at)->Status : &((TPacketBlockDesc*)at)->BlockStatus;
            Volatile.Write(ref *word, (uint)TpStatusKernel);
        }
    }

    private TPacketBlockDesc* Block(int index) => (TPacketBlockDesc*)(_rxRing + ((nint)index * _rxBlockSize));

    /// <summary>Slot <paramref name="index"/>: a block of a block ring, a frame of a frame ring (frames never cross a block).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* Slot(int index)
    {
        (int block, int slot) = Math.DivRem(index, _rxSlotsPerBlock);
        return _rxRing + ((nint)block * _rxBlockSize) + ((nint)slot * _rxSlotSize);
    }

    /// <summary>What one <see cref="Receive"/> call handed out and refused.</summary>
    private struct RxBatch
    {
        public int Count;
        public long Bytes;
        public int TooBig;
        public int Partial;
    }
}
