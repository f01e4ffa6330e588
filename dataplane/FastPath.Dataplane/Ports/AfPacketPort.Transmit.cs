using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Parsing;
using static FastPath.Dataplane.Interop.LinuxConstants;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// Transmit side: one sendmmsg(2) sends a batch straight from the caller's buffers. Chosen over a TPACKET_V3 TX
/// ring because it was faster on veth in every paired run, for the C anchor and for this port alike
/// (bench/RESULTS.md, issue 6, "ports"), and it leaves nothing queued behind a call.
/// </summary>
public sealed unsafe partial class AfPacketPort
{
    /// <summary>Messages per sendmmsg call; longer batches go in several calls.</summary>
    private const int MaxMessages = 256;

    private Libc.MMsgHdr* _messages;
    private Libc.IoVec* _vectors;
    private int _maxUntagged;   // MTU + Ethernet header, read when the port opened.

    /// <summary>Longest untagged frame the port sends: the interface's MTU (when the port opened) plus the 14-byte header; an 802.1Q-tagged frame may have 4 bytes more.</summary>
    public int MaxTransmitLength => _maxUntagged;

    /// <inheritdoc />
    /// <remarks>
    /// Returns how many frames from the front were consumed: sent, or refused because they are shorter than an
    /// Ethernet header or longer than the MTU allows (counted in <see cref="PortCounters.TxInvalid"/>). It stops
    /// when the kernel pushes back (EAGAIN/ENOBUFS) or fails (counted in <see cref="PortCounters.TxErrors"/>);
    /// the frames not consumed stay the caller's.
    /// </remarks>
    public override int Transmit(ReadOnlySpan<FrameView> frames, ReadOnlySpan<PacketMeta> meta)
    {
        if (_messages == null)
        {
            return 0;
        }

        ref FrameView frame0 = ref MemoryMarshal.GetReference(frames);
        int done = 0;
        int invalid = 0;
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
                if (!Sendable(frame))
                {
                    if (count > 0)
                    {
                        break;
                    }

                    invalid++;
                    first = ++done;
                    continue;
                }

                _vectors[count].Base = frame.Data;
                _vectors[count].Length = (nuint)frame.Length;
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
                bytes += (long)_vectors[i].Length;
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
        return done;
    }

    /// <summary>The kernel's own size rule (packet_snd, packet_extra_vlan_len_allowed): MTU + header, 4 bytes more for an 802.1Q-tagged frame.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool Sendable(FrameView frame)
    {
        if (frame.Length < EthHeaderLength)
        {
            return false;
        }

        if (frame.Length <= _maxUntagged)
        {
            return true;
        }

        ushort type = BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(frame.Data + 12, 2));
        return frame.Length <= _maxUntagged + 4 && type == EthP8021Q;
    }

    private void InitializeTransmit(int mtu)
    {
        _maxUntagged = mtu + EthHeaderLength;
        _messages = (Libc.MMsgHdr*)NativeMemory.AllocZeroed((nuint)(MaxMessages * sizeof(Libc.MMsgHdr)));
        _vectors = (Libc.IoVec*)NativeMemory.AllocZeroed((nuint)(MaxMessages * sizeof(Libc.IoVec)));
        for (int i = 0; i < MaxMessages; i++)
        {
            // No address: bind() named the interface, and the kernel reads the EtherType from the frame.
            _messages[i].Header.Iov = _vectors + i;
            _messages[i].Header.IovLength = 1;
        }
    }

    private void ReleaseTransmit()
    {
        NativeMemory.Free(_messages);
        NativeMemory.Free(_vectors);
        _messages = null;
        _vectors = null;
    }
}
