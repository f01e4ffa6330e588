using System.Runtime.CompilerServices;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Parsing;

namespace FastPath.Dataplane.Guest;

/// <summary>The worker's hand-over of translated secure→user packets to the guest: move, describe, post once per batch.</summary>
internal sealed unsafe partial class GuestPort
{
    // Largest header the move keeps (the header slot minus its headroom); the parser never reports more.
    private const int MaxHeaderLength = FramePool.HeaderSlotSize - FramePool.Headroom;

    private readonly GuestRxDescriptor[] _pending = new GuestRxDescriptor[256];
    private int _pendingCount;
    private int _room;

    /// <summary>
    /// Whether the guest can take one more packet in this batch: attached, room in its RX ring, and a header that fits
    /// the header slot, and below its quota of held frames. When false the worker drops the packet (counted as TX-full).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool CanTake(in PacketMeta meta)
    {
        if (_active is null || meta.PayloadOffset > MaxHeaderLength || _pendingCount == _pending.Length || _held >= _maxHeld)
        {
            return false;
        }

        if (_pendingCount < _room)
        {
            return true;
        }

        // The room seen at the last flush is used up; the guest may have consumed since, so look again (once per batch at most when full).
        MeasureRoom();
        return _pendingCount < _room;
    }

    /// <summary>
    /// Moves one translated packet, now in frame <paramref name="frame"/>, to the guest: its header bytes go to the frame's
    /// header slot (where the guest cannot map them) and are wiped from the payload slot, and a descriptor pointing at the
    /// transport payload is queued. The guest owns the frame from here on; the caller has replaced it in its RX set.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Post(uint frame, byte* data, in PacketMeta meta)
    {
        int header = meta.PayloadOffset;
        byte* slot = _pool.Payload(frame);
        Buffer.MemoryCopy(data, _pool.Header(frame) + FramePool.Headroom, MaxHeaderLength, header);

        ref GuestRxDescriptor d = ref _pending[_pendingCount++];
        d.FrameIndex = frame;
        d.PayloadOffset = (ushort)(data - slot + header);
        d.Length = (ushort)(meta.PacketEnd > header ? meta.PacketEnd - header : 0);
        d.Tenant = meta.VlanId;
        d.SourcePort = meta.SourcePort;
        d.DestinationPort = meta.DestinationPort;
        d.Protocol = meta.Protocol;
        d.Family = meta.IpVersion;
        int addressLength = meta.IpVersion == 6 ? 16 : 4;
        fixed (byte* source = d.Source, destination = d.Destination)
        {
            Buffer.MemoryCopy(data + meta.SourceOffset, source, 16, addressLength);
            Buffer.MemoryCopy(data + meta.DestinationOffset, destination, 16, addressLength);
        }

        // Only after the copies above: the header bytes leave the guest-visible page.
        new Span<byte>(data, header).Clear();
        _owned[frame] = 1;
        _held++;
    }

    /// <summary>Publishes the batch's descriptors to the guest (one ring write); returns how many could not be posted.</summary>
    internal int Flush()
    {
        int count = _pendingCount;
        if (count == 0 || _active is null)
        {
            return 0;
        }

        int posted = _active.Channel.Rx.EnqueueBurst(_pending.AsSpan(0, count));
        _pendingCount = 0;
        _room -= posted;
        long bytes = 0;
        for (int i = 0; i < posted; i++)
        {
            bytes += _pending[i].Length;
        }

        Counters._txPackets += posted;
        Counters._txBytes += bytes;

        // Only a guest that corrupted its ring cursors makes room vanish; those frames stay marked as its own
        // and come back when it leaves.
        return count - posted;
    }

    private void MeasureRoom()
    {
        uint used = _active!.Channel.Rx.Count;
        uint capacity = _active.Channel.Rx.Capacity;
        _room = used >= capacity ? 0 : (int)Math.Min(capacity - used, (uint)_pending.Length);
    }
}
