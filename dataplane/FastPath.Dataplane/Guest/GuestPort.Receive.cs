using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports;

namespace FastPath.Dataplane.Guest;

/// <summary>The worker's poll of the guest: adopt or retire the connection, take back freed frames, refill, build frames for what the guest sent.</summary>
internal sealed unsafe partial class GuestPort
{
    private const int EthernetLength = HeaderParser.EthernetHeaderLength;
    private const int VlanLength = HeaderParser.VlanTagLength;
    private const int Ipv4Length = UdpFrameBuilder.Ipv4HeaderLength;
    private const int Ipv6Length = HeaderParser.Ipv6HeaderLength;
    private const int UdpLength = UdpFrameBuilder.UdpHeaderLength;
    private const byte Udp = 17;
    private const byte HopLimit = 64;

    // Bounded work per poll, whatever the guest posts: at most one batch of sends and this many frees.
    private const int MaxFreesPerPoll = 64;

    private readonly GuestTxDescriptor[] _sends = new GuestTxDescriptor[256];
    private readonly uint[] _frees = new uint[MaxFreesPerPoll];
    private readonly uint[] _reclaim = new uint[256];
    private readonly uint[] _fill = new uint[GuestLayout.FillTarget];

    /// <inheritdoc />
    /// <remarks>
    /// Each descriptor is dequeued into the worker's own array (one read of shared memory), validated there, and
    /// turned into a user-side frame in the caller's buffer (the worker's private memory): Ethernet (+ the tenant's
    /// 802.1Q tag) + IP + UDP from the port's bound address and the descriptor's flow, the payload copied behind it,
    /// and the checksums computed over that private copy, so what leaves is exactly what was checksummed however the
    /// guest rewrites its frame meanwhile. The guest's frame is free again at once.
    /// </remarks>
    public override int Receive(ReadOnlySpan<RxBuffer> buffers, Span<FrameView> frames)
    {
        GuestConnection? active = Sync();
        if (active is null)
        {
            return 0;
        }

        TakeBackFreed(active);
        Refill(active);

        FramePool memory = active.Frames;
        int wanted = Math.Min(Math.Min(buffers.Length, frames.Length), _sends.Length);
        int posted = active.Channel.Tx.DequeueBurst(_sends.AsSpan(0, wanted));
        int built = 0;
        long bytes = 0;
        int reclaimed = 0;
        ref GuestTxDescriptor send0 = ref _sends[0];
        for (int i = 0; i < posted; i++)
        {
            ref GuestTxDescriptor send = ref Unsafe.Add(ref send0, i);
            uint frame = send.FrameIndex;
            if (!TryDisown(active, frame))
            {
                // Not the guest's frame (never given, already sent or freed, out of range): refuse, touch nothing.
                Count(DropReason.BadDescriptor);
                continue;
            }

            _reclaim[reclaimed++] = frame;
            RxBuffer buffer = buffers[built];
            int headerLength = EthernetLength + (_tenant != 0 ? VlanLength : 0) + (_family == 6 ? Ipv6Length : Ipv4Length) + UdpLength;
            if ((uint)send.PayloadOffset + send.Length > (uint)memory.PayloadSlotSize)
            {
                Count(DropReason.BadDescriptor);
                continue;
            }

            if (headerLength + send.Length > buffer.Capacity)
            {
                Count(DropReason.TooBig);
                continue;
            }

            if (send.Protocol != Udp || send.Family != _family || send.DestinationPort == 0)
            {
                Count(DropReason.UnknownFlow);
                continue;
            }

            int length = Build(buffer.Data, memory.Payload(frame) + send.PayloadOffset, ref send, headerLength);
            frames[built++] = new FrameView(buffer.Data, length);
            bytes += length;
        }

        if (reclaimed != 0)
        {
            memory.FreeBulk(_reclaim.AsSpan(0, reclaimed));
        }

        Counters._rxPackets += built;
        Counters._rxBytes += bytes;

        return built;
    }

    /// <summary>Worker side of the hand-over: adopt an offered connection, or release a hung-up one.</summary>
    private GuestConnection? Sync()
    {
        GuestConnection? active = _active;
        if (active is not null)
        {
            if (!active.HungUp)
            {
                return active;
            }

            // Retire before letting go: whoever sees the port disconnected also sees the listener free to accept. The
            // listener then disposes the connection and with it the guest's memory; the next guest gets new memfds.
            active.Retire();
            _active = null;
            return null;
        }

        GuestConnection? offered = Volatile.Read(ref _offered);
        if (offered is null || offered.HungUp || offered.Retired)
        {
            if (offered is not null && offered.HungUp && !offered.Retired)
            {
                // It left before the worker ever used it; still hand it back so the listener can free it.
                offered.Retire();
            }

            return null;
        }

        _active = offered;
        return offered;
    }

    private void TakeBackFreed(GuestConnection active)
    {
        int count = active.Channel.Free.DequeueBurst(_frees);
        int reclaimed = 0;
        for (int i = 0; i < count; i++)
        {
            uint frame = _frees[i];
            if (!TryDisown(active, frame))
            {
                Count(DropReason.BadDescriptor);
                continue;
            }

            _reclaim[reclaimed++] = frame;
        }

        if (reclaimed != 0)
        {
            active.Frames.FreeBulk(_reclaim.AsSpan(0, reclaimed));
        }
    }

    private void Refill(GuestConnection active)
    {
        uint waiting = active.Channel.Fill.Count;
        int wanted = (int)(GuestLayout.FillTarget - Math.Min(waiting, GuestLayout.FillTarget));
        if (wanted == 0)
        {
            return;
        }

        // The guest's memory holds exactly its quota, so whatever it holds already simply is not free here.
        int got = active.Frames.AllocateBurst(_fill.AsSpan(0, wanted));
        for (int i = 0; i < got; i++)
        {
            Own(active, _fill[i]);
        }

        int placed = active.Channel.Fill.EnqueueBurst(_fill.AsSpan(0, got));
        for (int i = placed; i < got; i++)
        {
            // The guest corrupted the fill cursors: keep what did not fit.
            TryDisown(active, _fill[i]);
            active.Frames.Free(_fill[i]);
        }
    }

    /// <summary>Writes the user-side frame for one validated send into <paramref name="frame"/> and returns its length.</summary>
    private int Build(byte* frame, byte* guestPayload, ref GuestTxDescriptor send, int headerLength)
    {
        int payloadLength = send.Length;
        byte* payload = frame + headerLength;

        // The one read of the guest's bytes: everything below (checksums included) works on this private copy.
        Buffer.MemoryCopy(guestPayload, payload, payloadLength, payloadLength);

        PeerMac.CopyTo(new Span<byte>(frame, 6));
        Mac.CopyTo(new Span<byte>(frame + 6, 6));
        byte* next = frame + 12;
        if (_tenant != 0)
        {
            BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(next, 2), 0x8100);
            BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(next + 2, 2), _tenant);
            next += VlanLength;
        }

        int addressLength = _family == 6 ? 16 : 4;
        int udpLength = UdpLength + payloadLength;
        byte* ip = next + 2;
        byte* source;
        byte* destination;
        if (_family == 6)
        {
            BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(next, 2), 0x86DD);
            BinaryPrimitives.WriteUInt32BigEndian(new Span<byte>(ip, 4), 0x6000_0000);
            BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(ip + 4, 2), (ushort)udpLength);
            ip[6] = Udp;
            ip[7] = HopLimit;
            source = ip + 8;
            destination = ip + 24;
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(next, 2), 0x0800);
            ip[0] = 0x45;
            ip[1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(ip + 2, 2), (ushort)(Ipv4Length + udpLength));
            BinaryPrimitives.WriteUInt32BigEndian(new Span<byte>(ip + 4, 4), 0x0000_4000); // ID 0, DF
            ip[8] = HopLimit;
            ip[9] = Udp;
            ip[10] = 0;
            ip[11] = 0;
            source = ip + 12;
            destination = ip + 16;
        }

        _address.AsSpan(0, addressLength).CopyTo(new Span<byte>(source, addressLength));
        fixed (byte* wanted = send.Destination)
        {
            Buffer.MemoryCopy(wanted, destination, addressLength, addressLength);
        }

        if (_family == 4)
        {
            BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(ip + 10, 2), UdpFrameBuilder.Fold(UdpFrameBuilder.Sum(new ReadOnlySpan<byte>(ip, Ipv4Length))));
        }

        byte* udp = payload - UdpLength;
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(udp, 2), send.SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(udp + 2, 2), send.DestinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(udp + 4, 2), (ushort)udpLength);
        udp[6] = 0;
        udp[7] = 0;

        // Pseudo-header (RFC 768 / RFC 8200 §8.1) plus the whole datagram; a computed 0 is sent as 0xFFFF.
        ulong sum = UdpFrameBuilder.Sum(new ReadOnlySpan<byte>(source, 2 * addressLength)) + Udp + (uint)udpLength
            + UdpFrameBuilder.Sum(new ReadOnlySpan<byte>(udp, udpLength));
        ushort checksum = UdpFrameBuilder.Fold(sum);
        BinaryPrimitives.WriteUInt16BigEndian(new Span<byte>(udp + 6, 2), checksum == 0 ? (ushort)0xFFFF : checksum);
        return headerLength + payloadLength;
    }
}
