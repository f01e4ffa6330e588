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
    /// write. A payload longer than a guest frame is dropped as <see cref="DropReason.TooBig"/> (counted here). The
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

        int room = RxRoom(guest);
        FramePool memory = guest.Frames;
        int wanted = memory.AllocateBurst(_taken.AsSpan(0, Math.Min(Math.Min(frames.Length, room), _pending.Length)));
        int payloadRoom = memory.PayloadSlotSize - GuestLayout.RxPayloadOffset;
        ref FrameView frame0 = ref MemoryMarshal.GetReference(frames);
        ref PacketMeta meta0 = ref MemoryMarshal.GetReference(meta);
        int consumed = 0;
        int queued = 0;
        long bytes = 0;
        for (; consumed < wanted; consumed++)
        {
            ref readonly PacketMeta m = ref Unsafe.Add(ref meta0, consumed);
            int header = m.PayloadOffset;
            int length = m.PacketEnd > header ? m.PacketEnd - header : 0;
            if (header > MaxHeaderLength || length > payloadRoom)
            {
                Count(DropReason.TooBig);
                continue;
            }

            uint frame = _taken[queued];
            byte* data = Unsafe.Add(ref frame0, consumed).Data;
            Buffer.MemoryCopy(data, memory.Header(frame) + FramePool.Headroom, MaxHeaderLength, header);
            Buffer.MemoryCopy(data + header, memory.Payload(frame) + GuestLayout.RxPayloadOffset, payloadRoom, length);
            Describe(ref _pending[queued++], frame, data, length, in m);
            Own(guest, frame);
            bytes += length;
        }

        if (queued != wanted)
        {
            // Frames taken for packets that turned out too big go straight back.
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
