using System.Net;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Guest;

/// <summary>
/// One packet handed to the guest (worker → guest RX ring): which frame holds it, where its transport payload
/// starts in the frame's payload slot, and a copy of the header fields the guest may read but never touches in place.
/// </summary>
/// <remarks>
/// A value copied through a shared ring; the guest owns <see cref="FrameIndex"/> from the moment it dequeues the
/// descriptor until it sends or frees that frame. 48 bytes, not 32: two IPv6 addresses alone take 32.
/// </remarks>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public unsafe struct GuestRxDescriptor
{
    /// <summary>Bytes per descriptor.</summary>
    public const int Size = 48;

    /// <summary>Frame the packet is in; the guest owns it now.</summary>
    public uint FrameIndex;

    /// <summary>Offset of the transport payload in the frame's payload slot.</summary>
    public ushort PayloadOffset;

    /// <summary>Transport payload bytes (no Ethernet padding).</summary>
    public ushort Length;

    /// <summary>The tenant (user-side VLAN ID, 0 for untagged).</summary>
    public ushort Tenant;

    /// <summary>UDP/TCP source port, host order; 0 for other protocols.</summary>
    public ushort SourcePort;

    /// <summary>UDP/TCP destination port, host order; 0 for other protocols.</summary>
    public ushort DestinationPort;

    /// <summary>IP protocol number (17 UDP, 6 TCP, …).</summary>
    public byte Protocol;

    /// <summary>4 or 6.</summary>
    public byte Family;

    /// <summary>Source address as the user side sees it (4 or 16 bytes, network order).</summary>
    public fixed byte Source[16];

    /// <summary>Destination address: the guest's own user-side address.</summary>
    public fixed byte Destination[16];

    /// <summary>The source address as an <see cref="IPAddress"/> (allocates; not for a hot loop).</summary>
    public readonly IPAddress SourceAddress
    {
        get
        {
            fixed (byte* source = Source)
            {
                return new IPAddress(new ReadOnlySpan<byte>(source, Family == 6 ? 16 : 4));
            }
        }
    }

    /// <summary>The destination address as an <see cref="IPAddress"/> (allocates; not for a hot loop).</summary>
    public readonly IPAddress DestinationAddress
    {
        get
        {
            fixed (byte* destination = Destination)
            {
                return new IPAddress(new ReadOnlySpan<byte>(destination, Family == 6 ? 16 : 4));
            }
        }
    }
}
