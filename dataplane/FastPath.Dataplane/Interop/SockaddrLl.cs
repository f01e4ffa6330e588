using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Interop;

/// <summary><c>struct sockaddr_ll</c> (20 bytes): an AF_PACKET address (interface index, protocol in network order).</summary>
/// <remarks>Plain data passed to bind.</remarks>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SockaddrLl
{
    public ushort Family;
    public ushort Protocol;
    public int InterfaceIndex;
    public ushort HardwareType;
    public byte PacketType;
    public byte AddressLength;
    public fixed byte Address[8];
}
