using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Interop;

/// <summary><c>struct packet_mreq</c>: PACKET_ADD_MEMBERSHIP argument (promiscuous mode for one socket).</summary>
/// <remarks>Plain data passed to setsockopt.</remarks>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct PacketMreq
{
    public int InterfaceIndex;
    public ushort Type;
    public ushort AddressLength;
    public fixed byte Address[8];
}
