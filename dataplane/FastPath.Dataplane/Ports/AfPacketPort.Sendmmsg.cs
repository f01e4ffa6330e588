using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Parsing;
using static FastPath.Dataplane.Interop.LinuxConstants;

namespace FastPath.Dataplane.Ports;

/// <summary>Transmit side, sendmmsg(2) variant: one syscall sends a batch straight from the caller's buffers.</summary>
public sealed unsafe partial class AfPacketPort
{
    /// <summary>Messages per sendmmsg call; longer batches go in several calls.</summary>
    private const int MaxMessages = 256;

    private Libc.MMsgHdr* _messages;
    private Libc.IoVec* _vectors;

    private int TransmitSendmmsg(ReadOnlySpan<FrameView> frames)
    {
        ref FrameView frame0 = ref MemoryMarshal.GetReference(frames);
        int done = 0;
        int invalid = 0;
        long bytes = 0;
        int sentTotal = 0;
        while (done < frames.Length)
        {
            // One call's messages: the run of valid frames ahead. A refused frame at the front is consumed and counted.
            int first = done;
            int count = 0;
            while (done < frames.Length && count < MaxMessages)
            {
                FrameView frame = Unsafe.Add(ref frame0, done);
                if (frame.Length < EthHeaderLength)
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
                done = first + sent; // Back-pressure: the rest stays with the caller.
                break;
            }
        }

        Counters._txPackets += sentTotal;
        Counters._txBytes += bytes;
        Counters._txInvalid += invalid;
        return done;
    }

    private void InitializeSendmmsg()
    {
        _messages = (Libc.MMsgHdr*)NativeMemory.AllocZeroed((nuint)(MaxMessages * sizeof(Libc.MMsgHdr)));
        _vectors = (Libc.IoVec*)NativeMemory.AllocZeroed((nuint)(MaxMessages * sizeof(Libc.IoVec)));
        for (int i = 0; i < MaxMessages; i++)
        {
            // No address: the socket's bind() names the interface; the kernel reads the EtherType from the frame.
            _messages[i].Header.Iov = _vectors + i;
            _messages[i].Header.IovLength = 1;
        }
    }

    private void ReleaseSendmmsg()
    {
        NativeMemory.Free(_messages);
        NativeMemory.Free(_vectors);
        _messages = null;
        _vectors = null;
    }
}
