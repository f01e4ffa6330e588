using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports.Segmentation;
using static FastPath.Dataplane.Interop.LinuxConstants;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// Transmit side: one sendmmsg(2) sends a batch straight from the caller's buffers (or the RX ring), each frame
/// behind its virtio_net_hdr (PACKET_VNET_HDR). Chosen over a TPACKET_V3 TX
/// ring because it was faster on veth in every paired run, for the C anchor and for this port alike
/// (bench/RESULTS.md, "ports"), and it leaves nothing queued behind a call.
/// </summary>
public sealed unsafe partial class AfPacketPort
{
    /// <summary>Messages per sendmmsg call; longer batches go in several calls.</summary>
    private const int MaxMessages = 256;

    private Libc.MMsgHdr* _messages;
    private Libc.IoVec* _vectors;       // Two per message: its virtio_net_hdr, then the frame.
    private VirtioNetHdr* _headers;     // One per message.
    private int _mtu;                   // The interface's MTU, read when the port opened.

    /// <summary>Longest untagged frame the port sends whole: the interface's MTU (when the port opened) plus the 14-byte header; an 802.1Q-tagged frame may have 4 bytes more.</summary>
    public int MaxTransmitLength => _mtu + EthHeaderLength;

    /// <inheritdoc />
    /// <remarks>
    /// Each frame leaves with a virtio_net_hdr (<see cref="VnetOffload"/>): a super-frame with its GSO type and segment
    /// size, so the kernel or the device segments it, a partial checksum with csum_start/csum_offset, so it is filled in
    /// there. Returns how many frames from the front were consumed: sent, or refused — shorter than an Ethernet header
    /// (<see cref="PortCounters.TxInvalid"/>), longer than the MTU and not segmentable (<see cref="DropReason.TooBig"/>,
    /// <see cref="PortCounters.TxTooBig"/>), or with offload work the port cannot express (<see cref="DropReason.Unsupported"/>,
    /// in <see cref="PortCounters.TxInvalid"/>). It stops when the kernel pushes back (EAGAIN/ENOBUFS) or fails (counted
    /// in <see cref="PortCounters.TxErrors"/>); the frames not consumed stay the caller's.
    /// </remarks>
    public override int Transmit(ReadOnlySpan<FrameView> frames, ReadOnlySpan<PacketMeta> meta)
    {
        if (_messages == null)
        {
            return 0;
        }

        bool withMeta = meta.Length >= frames.Length;
        ref FrameView frame0 = ref MemoryMarshal.GetReference(frames);
        ref PacketMeta meta0 = ref MemoryMarshal.GetReference(meta);
        int done = 0;
        int invalid = 0;
        int tooBig = 0;
        int unsupported = 0;
        long bytes = 0;
        int sentTotal = 0;
        while (done < frames.Length)
        {
            // One call's messages: the run of valid frames ahead. A refused frame at the front is consumed and
            // counted; the kernel would refuse it too, and a refusal after the first message of a call would be
            // reported against the next call's first frame (sendmmsg keeps it in sk_err).
            int first = done;
            int count = 0;
            while (done < frames.Length && count < MaxMessages)
            {
                FrameView frame = Unsafe.Add(ref frame0, done);
                DropReason refusal = frame.Length < EthHeaderLength
                    ? DropReason.Truncated
                    : VnetOffload.Prepare(frame, withMeta ? (PacketMeta*)Unsafe.AsPointer(ref Unsafe.Add(ref meta0, done)) : null, _mtu, out _headers[count]);
                if (refusal != DropReason.None)
                {
                    if (count > 0)
                    {
                        break;
                    }

                    if (refusal == DropReason.TooBig)
                    {
                        tooBig++;
                    }
                    else
                    {
                        invalid++;
                        unsupported += refusal == DropReason.Unsupported ? 1 : 0;
                    }

                    first = ++done;
                    continue;
                }

                Libc.IoVec* vector = _vectors + (2 * count);
                vector[1].Base = frame.Data;
                vector[1].Length = (nuint)frame.Length;
                count++;
                done++;
            }

            if (count == 0)
            {
                break;
            }

            int sent = Libc.Sendmmsg(_fd, _messages, (uint)count, MsgDontWait);
            if (sent < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno != EAgain && errno != ENoBufs)
                {
                    Counters._txErrors++;
                    Counters._txLastErrno = errno;
                }

                sent = 0;
            }

            for (int i = 0; i < sent; i++)
            {
                bytes += (long)_vectors[(2 * i) + 1].Length;
            }

            sentTotal += sent;
            if (sent < count)
            {
                done = first + sent;
                break;
            }
        }

        PortCounters counters = Counters;
        counters._txPackets += sentTotal;
        counters._txBytes += bytes;
        counters._txInvalid += invalid;
        if (tooBig + unsupported != 0)
        {
            CountRefusals(tooBig, unsupported);
        }

        return done;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CountRefusals(int tooBig, int unsupported)
    {
        Counters._txTooBig += tooBig;
        if (_drops != null)
        {
            _drops[(int)DropReason.TooBig] += tooBig;
            _drops[(int)DropReason.Unsupported] += unsupported;
        }
    }

    private void InitializeTransmit(int mtu)
    {
        _mtu = mtu;
        _messages = (Libc.MMsgHdr*)NativeMemory.AllocZeroed((nuint)(MaxMessages * sizeof(Libc.MMsgHdr)));
        _vectors = (Libc.IoVec*)NativeMemory.AllocZeroed((nuint)(2 * MaxMessages * sizeof(Libc.IoVec)));
        _headers = (VirtioNetHdr*)NativeMemory.AllocZeroed((nuint)(MaxMessages * sizeof(VirtioNetHdr)));
        for (int i = 0; i < MaxMessages; i++)
        {
            // No address: bind() named the interface, and the kernel reads the EtherType from the frame.
            _vectors[2 * i].Base = _headers + i;
            _vectors[2 * i].Length = (nuint)sizeof(VirtioNetHdr);
            _messages[i].Header.Iov = _vectors + (2 * i);
            _messages[i].Header.IovLength = 2;
        }
    }

    private void ReleaseTransmit()
    {
        NativeMemory.Free(_messages);
        NativeMemory.Free(_vectors);
        NativeMemory.Free(_headers);
        _messages = null;
        _vectors = null;
        _headers = null;
    }
}
