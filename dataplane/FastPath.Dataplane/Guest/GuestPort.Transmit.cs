using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Parsing;

namespace FastPath.Dataplane.Guest;

/// <summary>The guest as a TX target: translated secure→user packets split into a private header and a payload in the guest's own memory.</summary>
internal sealed unsafe partial class GuestPort
{
    // Largest header kept (the header slot minus its headroom); the parser never reports more.
    private const int MaxHeaderLength = FramePool.HeaderSlotSize - FramePool.Headroom;

    private readonly GuestRxDescriptor[] _pending = new GuestRxDescriptor[256];
    private readonly uint[] _taken = new uint[256]; // the batch's guest frames, taken from its pool in one burst

    /// <inheritdoc />
    /// <remarks>
    /// Each packet is copied once, out of the worker's private frame: its header into the frame's slot of the guest's
    /// header slab (which no process but this one maps) and its transport payload into the guest's payload frame at
    /// <see cref="GuestLayout.RxPayloadOffset"/>; then a descriptor is queued, and the batch is posted with one ring
    /// write. A super-frame (<see cref="FrameOffload.GsoType"/>) is segmented here, in software: its payload is cut at
    /// the segment size into one guest frame and descriptor per segment, as the segments would have arrived on the wire.
    /// A payload (or segment) longer than a guest frame is dropped as <see cref="DropReason.TooBig"/> (counted here). The
    /// batch's guest frames are taken in one burst, as many as the RX ring has room for and the guest has free; it
    /// returns how many packets that covered, and the worker counts the rest as TX-full, as for any port.
    /// </remarks>
    public override int Transmit(ReadOnlySpan<FrameView> frames, ReadOnlySpan<PacketMeta> meta)
    {
        GuestConnection? guest = _active;
        if (guest is null || guest.HungUp || meta.Length < frames.Length)
        {
            return 0;
        }

        FramePool memory = guest.Frames;
        int payloadRoom = memory.PayloadSlotSize - GuestLayout.RxPayloadOffset;
        ref FrameView frame0 = ref MemoryMarshal.GetReference(frames);
        ref PacketMeta meta0 = ref MemoryMarshal.GetReference(meta);
        int needed = 0;
        for (int i = 0; i < frames.Length; i++)
        {
            needed += Segments(Unsafe.Add(ref frame0, i), in Unsafe.Add(ref meta0, i), payloadRoom, out _);
        }

        int wanted = memory.AllocateBurst(_taken.AsSpan(0, Math.Min(Math.Min(needed, RxRoom(guest)), _pending.Length)));
        int consumed = 0;
        int queued = 0;
        long bytes = 0;
        for (; consumed < frames.Length; consumed++)
        {
            ref readonly PacketMeta m = ref Unsafe.Add(ref meta0, consumed);
            FrameView view = Unsafe.Add(ref frame0, consumed);
            int segments = Segments(view, in m, payloadRoom, out int segmentSize);
            if (segments == 0)
            {
                Count(DropReason.TooBig);
                continue;
            }

            if (queued + segments > wanted)
            {
                break;
            }

            int header = m.PayloadOffset;
            int left = m.PacketEnd - header;
            byte* payload = view.Data + header;
            for (int k = 0; k < segments; k++)
            {
                int length = Math.Min(left, segmentSize);
                uint frame = _taken[queued];
                Buffer.MemoryCopy(view.Data, memory.Header(frame) + FramePool.Headroom, MaxHeaderLength, header);
                Buffer.MemoryCopy(payload, memory.Payload(frame) + GuestLayout.RxPayloadOffset, payloadRoom, length);
                Describe(ref _pending[queued++], frame, view.Data, length, in m);
                Own(guest, frame);
                bytes += length;
                payload += length;
                left -= length;
            }
        }

        if (queued != wanted)
        {
            // Frames taken for packets that turned out too big, or that did not fit, go straight back.
            memory.FreeBulk(_taken.AsSpan(queued, wanted - queued));
        }

        if (queued != 0)
        {
            int posted = guest.Channel.Rx.EnqueueBurst(_pending.AsSpan(0, queued));

            // Only a guest that corrupted its ring cursors makes room vanish between the look and the write; the
            // frames not posted stay marked as its own and go with its memory when it leaves.
            for (int i = posted; i < queued; i++)
            {
                bytes -= _pending[i].Length;
            }

            Counters._txPackets += posted;
            Counters._txBytes += bytes;
            Count(DropReason.TxFull, queued - posted);
        }

        return consumed;
    }

    /// <summary>
    /// Guest frames one packet needs: 1 for an ordinary packet, one per segment for a super-frame; 0 when its header or
    /// a payload (segment) does not fit a guest frame. <paramref name="segmentSize"/> is the payload bytes per frame.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Segments(FrameView frame, in PacketMeta meta, int payloadRoom, out int segmentSize)
    {
        int header = meta.PayloadOffset;
        int length = meta.PacketEnd > header ? meta.PacketEnd - header : 0;
        segmentSize = frame.Offload.GsoType == GsoKind.None ? Math.Max(length, 1) : Math.Min(frame.Offload.GsoSize, Math.Max(length, 1));
        if (header > MaxHeaderLength || segmentSize <= 0 || segmentSize > payloadRoom)
        {
            return 0;
        }

        return length == 0 ? 1 : (length + segmentSize - 1) / segmentSize;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Describe(ref GuestRxDescriptor d, uint frame, byte* data, int length, in PacketMeta meta)
    {
        d = default; // a reused slot must not carry the bytes of an earlier, longer address
        d.FrameIndex = frame;
        d.PayloadOffset = GuestLayout.RxPayloadOffset;
        d.Length = (ushort)length;
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
    }

    private static int RxRoom(GuestConnection guest)
    {
        uint used = guest.Channel.Rx.Count;
        uint capacity = guest.Channel.Rx.Capacity;
        return used >= capacity ? 0 : (int)(capacity - used);
    }
}
