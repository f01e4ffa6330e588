using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Guest;

/// <summary>
/// One payload the guest wants sent (guest → worker TX ring): the frame holding it and the flow. The guest names no
/// source address and writes no header: the worker builds the whole header from this flow and the address bound to
/// the guest port, so a guest can neither spoof a source nor inject a malformed header.
/// </summary>
/// <remarks>
/// A value copied through a shared ring; every field is validated once, on the worker's private copy. 32 bytes, two
/// per cache line. Ownership of <see cref="FrameIndex"/> passes to the data plane when the descriptor is posted.
/// </remarks>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public unsafe struct GuestTxDescriptor
{
    /// <summary>Bytes per descriptor.</summary>
    public const int Size = 32;

    /// <summary>A frame the guest owns (received, or taken from the fill ring).</summary>
    public uint FrameIndex;

    /// <summary>Offset of the payload in the frame's payload slot.</summary>
    public ushort PayloadOffset;

    /// <summary>Payload bytes; offset + length must stay inside the slot.</summary>
    public ushort Length;

    /// <summary>The guest's (user-side) source port, host order.</summary>
    public ushort SourcePort;

    /// <summary>Destination port, host order; not 0.</summary>
    public ushort DestinationPort;

    /// <summary>IP protocol: 17 (UDP) is the one the first version builds.</summary>
    public byte Protocol;

    /// <summary>4 or 6; must be the family of the guest's bound address.</summary>
    public byte Family;

    /// <summary>Not read.</summary>
    public ushort Reserved;

    /// <summary>Destination address (4 or 16 bytes, network order) as the user side sees it.</summary>
    public fixed byte Destination[16];

    /// <summary>A reply to <paramref name="received"/>: same frame and payload, ports swapped, back to its source.</summary>
    public static GuestTxDescriptor ReplyTo(in GuestRxDescriptor received)
    {
        GuestTxDescriptor reply = default;
        reply.FrameIndex = received.FrameIndex;
        reply.PayloadOffset = received.PayloadOffset;
        reply.Length = received.Length;
        reply.SourcePort = received.DestinationPort;
        reply.DestinationPort = received.SourcePort;
        reply.Protocol = received.Protocol;
        reply.Family = received.Family;
        fixed (byte* source = received.Source)
        {
            new ReadOnlySpan<byte>(source, 16).CopyTo(new Span<byte>(reply.Destination, 16));
        }

        return reply;
    }
}
