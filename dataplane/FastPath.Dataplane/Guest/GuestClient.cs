using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Memory;
using Microsoft.Win32.SafeHandles;

namespace FastPath.Dataplane.Guest;

/// <summary>
/// The guest's side of the guest channel, usable on its own: connect to a guest port's socket, map its own payload
/// memory (read-write) and the rings, then receive packets, send payloads and free frames. Header pages are never
/// mapped: the guest is not sent their memfd, and their offsets in its view are a PROT_NONE reservation. The payload
/// memory holds nothing but payloads handed to this guest and frames it took to send.
/// </summary>
/// <remarks>
/// Concurrency: one guest thread calls <see cref="Receive"/>, <see cref="TakeFrames"/>, <see cref="Send"/> and
/// <see cref="Free"/> (each is the single producer or consumer of its ring); <see cref="PeerGone"/> may be called from
/// any thread. A frame is the guest's from <see cref="Receive"/> or <see cref="TakeFrames"/> until it passes it to
/// <see cref="Send"/> or <see cref="Free"/>; the data plane refuses and counts anything else.
/// </remarks>
public sealed unsafe class GuestClient : IDisposable
{
    private readonly SafeFileHandle _socket;
    private readonly GuestChannel _channel;
    private readonly GuardedRegion _region;
    private readonly nuint _payloadSegmentOffset;

    private GuestClient(SafeFileHandle socket, GuestChannel channel, GuardedRegion region, uint frameCount, int payloadSlotSize, nuint payloadSegmentOffset)
    {
        _socket = socket;
        _channel = channel;
        _region = region;
        FrameCount = frameCount;
        PayloadSlotSize = payloadSlotSize;
        _payloadSegmentOffset = payloadSegmentOffset;
    }

    /// <summary>Frames in the data plane's pool (valid frame indices are below this).</summary>
    public uint FrameCount { get; }

    /// <summary>Bytes per payload slot.</summary>
    public int PayloadSlotSize { get; }

    /// <summary>
    /// First byte of the guest's view of the frame region. Header slots start at offset 0 and are not accessible;
    /// payload slot <c>i</c> starts at <see cref="PayloadSlot"/>(i).
    /// </summary>
    public byte* RegionBase => _region.Pointer;

    /// <summary>Offset of the guest's payload memory (payload slot 0) from <see cref="RegionBase"/>; everything before it faults.</summary>
    public nuint PayloadSegmentOffset => _payloadSegmentOffset;

    /// <summary>Bytes of the guest's reservation from <see cref="RegionBase"/>; only the payload memory inside it is mapped.</summary>
    public nuint RegionLength => _region.Length;

    /// <summary>Connects to the guest port at <paramref name="socketPath"/> and maps what it sends.</summary>
    public static GuestClient Connect(string socketPath)
    {
        SafeFileHandle socket = GuestSocket.Connect(socketPath);
        SafeFileHandle? payload = null;
        GuestChannel? channel = null;
        bool done = false;
        try
        {
            (payload, SafeFileHandle channelFile) = GuestSocket.ReceiveHandshake(socket);
            channel = GuestChannel.Attach(channelFile);
            byte* control = channel.ControlBlock;
            uint frameCount = *(uint*)(control + GuestLayout.FrameCountOffset);
            uint slotSize = *(uint*)(control + GuestLayout.PayloadSlotSizeOffset);
            nuint regionLength = (nuint)(*(ulong*)(control + GuestLayout.RegionLengthOffset));
            nuint payloadOffset = (nuint)(*(ulong*)(control + GuestLayout.PayloadSegmentOffsetOffset));
            nuint payloadLength = (nuint)(*(ulong*)(control + GuestLayout.PayloadSegmentLengthOffset));
            if (frameCount == 0 || slotSize == 0 || (ulong)frameCount * slotSize > payloadLength)
            {
                throw new InvalidDataException($"the guest channel describes {frameCount} frames of {slotSize} bytes in a {payloadLength}-byte payload slab");
            }

            // Only the payload memfd exists in this process; GuardedRegion.Attach checks its size before mapping it.
            GuardedRegion region = GuardedRegion.Attach(regionLength, [new RegionSegment(payload, payloadOffset, payloadLength, RegionAccess.ReadWrite)]);
            done = true;
            return new GuestClient(socket, channel, region, frameCount, (int)slotSize, payloadOffset);
        }
        finally
        {
            payload?.Dispose(); // Attach duplicated it
            if (!done)
            {
                channel?.Dispose();
                socket.Dispose();
            }
        }
    }

    /// <summary>First byte of frame <paramref name="frame"/>'s payload slot (<see cref="PayloadSlotSize"/> bytes).</summary>
    public byte* PayloadSlot(uint frame)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(frame, FrameCount);
        return _region.Pointer + _payloadSegmentOffset + ((nuint)frame * (nuint)PayloadSlotSize);
    }

    /// <summary>The payload bytes a received descriptor points at.</summary>
    public Span<byte> Payload(in GuestRxDescriptor received) =>
        new(PayloadSlot(received.FrameIndex) + received.PayloadOffset, received.Length);

    /// <summary>Takes up to <c>into.Length</c> received packets; returns how many.</summary>
    public int Receive(Span<GuestRxDescriptor> into) => _channel.Rx.DequeueBurst(into);

    /// <summary>Takes up to <c>into.Length</c> empty frames for new payloads (write at <see cref="GuestLayout.NewPayloadOffset"/>); returns how many.</summary>
    public int TakeFrames(Span<uint> into) => _channel.Fill.DequeueBurst(into);

    /// <summary>Posts as many sends as the TX ring holds now, in order; returns how many (the rest are still the guest's).</summary>
    public int Send(ReadOnlySpan<GuestTxDescriptor> sends) => _channel.Tx.EnqueueBurst(sends);

    /// <summary>Gives frames back without sending them; returns how many the free ring took.</summary>
    public int Free(ReadOnlySpan<uint> frames) => _channel.Free.EnqueueBurst(frames);

    /// <summary>True once the data plane has closed the channel (its socket hung up).</summary>
    public bool PeerGone()
    {
        Libc.PollFd fd = new() { Fd = (int)_socket.DangerousGetHandle(), Events = LinuxConstants.PollIn };
        return Libc.Poll(&fd, 1, 0) > 0 && (fd.Revents & (LinuxConstants.PollHup | LinuxConstants.PollErr | LinuxConstants.PollIn)) != 0;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _region.Dispose();
        _channel.Dispose();
        _socket.Dispose();
    }
}
