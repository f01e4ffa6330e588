using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Parsing;
using static FastPath.Dataplane.Interop.LinuxConstants;

namespace FastPath.Dataplane.Ports;

/// <summary>Transmit side: copies frames into TPACKET_V3 TX slots and kicks the kernel once per batch.</summary>
public sealed unsafe partial class AfPacketPort
{
    private byte* _txRing;
    private int _txFrameSize;
    private int _txFrameCount;
    private int _txIndex;       // Next slot to fill; the kernel sends slots in the same order.

    /// <summary>Longest frame a TX slot carries: the slot minus its 48-byte header.</summary>
    public int MaxTransmitLength => _txFrameSize - TPacket3Hdr.AlignedSize;

    /// <inheritdoc />
    /// <remarks>
    /// Returns how many frames from the front were consumed: queued in the TX ring, or refused because they are
    /// shorter than an Ethernet header or longer than <see cref="MaxTransmitLength"/> (counted in
    /// <see cref="PortCounters.TxInvalid"/>). It stops at the first slot the kernel still holds. One send(2) with
    /// MSG_DONTWAIT per call makes the kernel transmit every queued slot.
    /// </remarks>
    public override int Transmit(ReadOnlySpan<FrameView> frames)
    {
        if (_messages != null)
        {
            return TransmitSendmmsg(frames);
        }

        if (frames.IsEmpty || _txRing == null)
        {
            return 0;
        }

        ref FrameView frame0 = ref MemoryMarshal.GetReference(frames);
        int done = 0;
        int queued = 0;
        long bytes = 0;
        int invalid = 0;
        int maxLength = MaxTransmitLength;
        for (; done < frames.Length; done++)
        {
            FrameView frame = Unsafe.Add(ref frame0, done);
            if ((uint)(frame.Length - EthHeaderLength) > (uint)(maxLength - EthHeaderLength))
            {
                invalid++;
                continue;
            }

            TPacket3Hdr* slot = (TPacket3Hdr*)(_txRing + (nint)_txIndex * _txFrameSize);

            // Acquire, pairs with the kernel's status store in tpacket_destruct_skb(): the kernel is done reading
            // the slot's bytes before we overwrite them.
            if (Volatile.Read(ref slot->Status) != TpStatusAvailable)
            {
                break;
            }

            Unsafe.CopyBlockUnaligned((byte*)slot + TPacket3Hdr.AlignedSize, frame.Data, (uint)frame.Length);
            slot->Length = (uint)frame.Length;

            // Release, pairs with the kernel's read of tp_status in tpacket_snd(): bytes and length are in place
            // before the slot says SEND_REQUEST.
            Volatile.Write(ref slot->Status, (uint)TpStatusSendRequest);
            _txIndex = _txIndex + 1 == _txFrameCount ? 0 : _txIndex + 1;
            queued++;
            bytes += frame.Length;
        }

        // Kick also when the ring is full: slots left queued by an earlier kick that hit a full send buffer go now.
        Kick();
        PortCounters counters = Counters;
        counters._txPackets += queued;
        counters._txBytes += bytes;
        counters._txInvalid += invalid;
        return done;
    }

    /// <summary>
    /// Kicks the kernel until every queued TX slot has been sent (or <paramref name="timeout"/> passes); true when
    /// the ring is empty. Call before closing a port whose last frames must leave: closing drops queued slots.
    /// </summary>
    public bool Flush(TimeSpan timeout)
    {
        if (_txRing == null)
        {
            return true;
        }

        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            Kick();
            if (TxRingIdle())
            {
                return true;
            }

            if (Environment.TickCount64 >= deadline)
            {
                return false;
            }

            Thread.Sleep(1);
        }
    }

    private bool TxRingIdle()
    {
        for (int i = 0; i < _txFrameCount; i++)
        {
            TPacket3Hdr* slot = (TPacket3Hdr*)(_txRing + (nint)i * _txFrameSize);
            if (Volatile.Read(ref slot->Status) != TpStatusAvailable)
            {
                return false;
            }
        }

        return true;
    }

    private void Kick()
    {
        // Errors leave the slots queued for the next kick: EAGAIN/ENOBUFS (send buffer or device queue full) are
        // back-pressure; anything else (ENETDOWN: link down) is counted so a stalled port is explained.
        if (Libc.Sendto(_fd, null, 0, MsgDontWait, null, 0) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != EAgain && errno != ENoBufs)
            {
                Counters._txErrors++;
                Counters._txLastErrno = errno;
            }
        }
    }

    private void InitializeTransmit(byte* ring, int frameSize, int frameCount)
    {
        _txRing = ring;
        _txFrameSize = frameSize;
        _txFrameCount = frameCount;
        _txIndex = 0;
    }
}
