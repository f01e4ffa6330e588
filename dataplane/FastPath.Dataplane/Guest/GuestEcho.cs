namespace FastPath.Dataplane.Guest;

/// <summary>
/// A UDP echo service as a guest (<c>fastpath guest echo</c>): every UDP payload received is sent back to its source
/// from the same frame, in place; anything else is freed. Returns when the data plane hangs up or when asked to stop.
/// </summary>
/// <remarks>Runs on the calling thread, which becomes the channel's one guest thread. Allocates nothing per packet.</remarks>
public static class GuestEcho
{
    private const int Burst = 64;

    // Empty polls before the guest backs off: spin first (round-trip latency), then yield, then sleep.
    private const int SpinPolls = 1024;
    private const int YieldPolls = 16384;

    /// <summary>Echoes until <paramref name="stop"/> is cancelled or the data plane goes away; returns the payloads echoed.</summary>
    public static long Run(GuestClient client, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(client);
        Span<GuestRxDescriptor> received = stackalloc GuestRxDescriptor[Burst];
        Span<GuestTxDescriptor> replies = stackalloc GuestTxDescriptor[Burst];
        Span<uint> frees = stackalloc uint[Burst];
        long echoed = 0;
        int idle = 0;
        while (!stop.IsCancellationRequested)
        {
            int count = client.Receive(received);
            if (count == 0)
            {
                idle++;
                if ((idle & 1023) == 0 && client.PeerGone())
                {
                    break;
                }

                if (idle > YieldPolls)
                {
                    Thread.Sleep(1);
                }
                else if (idle > SpinPolls)
                {
                    Thread.Yield();
                }
                else
                {
                    Thread.SpinWait(8);
                }

                continue;
            }

            idle = 0;
            int replyCount = 0;
            int freeCount = 0;
            for (int i = 0; i < count; i++)
            {
                ref GuestRxDescriptor packet = ref received[i];
                if (packet.Protocol == 17 && packet.SourcePort != 0)
                {
                    replies[replyCount++] = GuestTxDescriptor.ReplyTo(in packet);
                }
                else
                {
                    frees[freeCount++] = packet.FrameIndex;
                }
            }

            echoed += SendAll(client, replies[..replyCount], stop);
            int freed = 0;
            while (freed < freeCount && !stop.IsCancellationRequested)
            {
                freed += client.Free(frees[freed..freeCount]);
            }
        }

        return echoed;
    }

    private static int SendAll(GuestClient client, ReadOnlySpan<GuestTxDescriptor> replies, CancellationToken stop)
    {
        int sent = 0;
        while (sent < replies.Length && !stop.IsCancellationRequested)
        {
            int now = client.Send(replies[sent..]);
            sent += now;
            if (now == 0)
            {
                if (client.PeerGone())
                {
                    break;
                }

                Thread.Yield();
            }
        }

        return sent;
    }
}
