using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Parsing;
using static FastPath.Dataplane.Interop.LinuxConstants;

namespace FastPath.Dataplane.Ports;

/// <summary>Receive side: walks TPACKET_V3 blocks and copies frames into the caller's buffers.</summary>
public sealed unsafe partial class AfPacketPort
{
    private byte* _rxRing;
    private int _rxBlockSize;
    private int _rxBlockCount;
    private int _rxBlock;           // The block being read, or the next one to wait for.
    private byte* _rxNext;          // Header of the next frame in _rxBlock.
    private uint _rxLeft;           // Frames of _rxBlock not read yet; 0 = _rxBlock is not ours.

    /// <inheritdoc />
    /// <remarks>
    /// Frames longer than their buffer, or than the ring could hold, are dropped and counted in
    /// <see cref="PortCounters.RxTooBig"/>. A VLAN tag the kernel moved into the frame's metadata (802.1Q
    /// acceleration on veth and most NICs) is put back, so the caller sees the frame as it was on the wire.
    /// A transport checksum left to offload by a local sender (veth) is completed (<see cref="ChecksumCompletion"/>).
    /// A block goes back to the kernel as soon as its last frame is copied.
    /// </remarks>
    public override int Receive(ReadOnlySpan<RxBuffer> buffers, Span<FrameView> frames)
    {
        if (frames.Length < buffers.Length)
        {
            PortThrowHelper.ThrowFramesShorterThanBuffers();
        }

        ref RxBuffer buffer0 = ref MemoryMarshal.GetReference(buffers);
        ref FrameView received0 = ref MemoryMarshal.GetReference(frames);
        int count = 0;
        long bytes = 0;
        int tooBig = 0;
        int partial = 0;
        while (count < buffers.Length)
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
            RxBuffer target = Unsafe.Add(ref buffer0, count);
            if (snap < (int)header->Length || length > target.Capacity || (tagged && snap < 12))
            {
                tooBig++;
            }
            else
            {
                if (tagged)
                {
                    // Destination and source MAC, then the tag the kernel lifted out, then the rest from the EtherType on.
                    ushort tpid = (status & TpStatusVlanTpidValid) != 0 ? header->VlanTpid : EthP8021Q;
                    Unsafe.CopyBlockUnaligned(target.Data, data, 12);
                    BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(target.Data + 12, 2), tpid);
                    BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(target.Data + 14, 2), (ushort)header->VlanTci);
                    Unsafe.CopyBlockUnaligned(target.Data + 16, data + 12, (uint)(snap - 12));
                }
                else
                {
                    Unsafe.CopyBlockUnaligned(target.Data, data, (uint)snap);
                }

                if ((status & TpStatusCsumNotReady) != 0)
                {
                    ChecksumCompletion.Complete(target.Data, length);
                    partial++;
                }

                Unsafe.Add(ref received0, count) = new FrameView(target.Data, length);
                bytes += length;
                count++;
            }

            _rxNext += header->NextOffset;
            if (--_rxLeft == 0)
            {
                ReturnBlock();
            }
        }

        PortCounters counters = Counters;
        counters._rxPackets += count;
        counters._rxBytes += bytes;
        counters._rxTooBig += tooBig;
        counters._rxChecksumPartial += partial;
        return count;
    }

    private void InitializeReceive(byte* ring, int blockSize, int blockCount)
    {
        _rxRing = ring;
        _rxBlockSize = blockSize;
        _rxBlockCount = blockCount;
        _rxBlock = 0;
        _rxNext = null;
        _rxLeft = 0;
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
            TPacketBlockDesc* block = (TPacketBlockDesc*)(_rxRing + (nint)_rxBlock * _rxBlockSize);

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

            ReturnBlock();
        }
    }

    private void ReturnBlock()
    {
        TPacketBlockDesc* block = (TPacketBlockDesc*)(_rxRing + (nint)_rxBlock * _rxBlockSize);

        // Release, pairs with the kernel's read of block_status before it refills the block: every copy out of
        // the block is done before the kernel may overwrite it.
        Volatile.Write(ref block->BlockStatus, (uint)TpStatusKernel);
        _rxBlock = _rxBlock + 1 == _rxBlockCount ? 0 : _rxBlock + 1;
    }
}
