using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Memory;

/// <summary>
/// What travels through the rings for one packet: which frame of the <see cref="FramePool"/> holds it and
/// where. The packet's first <see cref="HeaderLength"/> bytes sit in the frame's header slot from
/// <see cref="DataOffset"/>; the remaining <c>Length - HeaderLength</c> bytes start at byte 0 of its
/// payload slot (header/data split, as NICs do it).
/// </summary>
/// <remarks>
/// A value type passed by copy; whoever holds the descriptor owns the frame. 16 bytes: four per cache
/// line, a burst of 32 in 512 bytes, and a copy is one 128-bit move.
/// </remarks>
[StructLayout(LayoutKind.Sequential, Size = Size)]
internal struct FrameDescriptor
{
    internal const int Size = 16;

    /// <summary>Frame index in the pool (0 … frame count − 1); locates both slots.</summary>
    internal uint FrameIndex;

    /// <summary>RSS-like flow hash, set by the port or parser so the pipeline spreads flows across workers; 0 when not computed.</summary>
    internal uint FlowHash;

    /// <summary>Offset of the packet's first byte in the header slot: <see cref="FramePool.Headroom"/> on receive, 4 less after a VLAN push.</summary>
    internal ushort DataOffset;

    /// <summary>Total packet length in bytes (header part plus payload part).</summary>
    internal ushort Length;

    /// <summary>Packet bytes held in the header slot, from <see cref="DataOffset"/>; the rest is in the payload slot.</summary>
    internal ushort HeaderLength;

    /// <summary>Index of the port the packet arrived on, or is to leave by once the worker has decided.</summary>
    internal byte Port;

    /// <summary>Per-packet bits owned by the stage that sets them (the parser's verdict bits, for example); 0 on allocation.</summary>
    internal byte Flags;
}
