using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Interop;

/// <summary><c>struct tpacket3_hdr</c> (48 bytes): the header before each frame in a TPACKET_V3 RX block.</summary>
/// <remarks>Read only while its block belongs to user space; the frame starts <see cref="MacOffset"/> bytes from the header.</remarks>
[StructLayout(LayoutKind.Explicit, Size = 48)]
internal struct TPacket3Hdr
{
    [FieldOffset(0)]
    public uint NextOffset;

    [FieldOffset(4)]
    public uint Seconds;

    [FieldOffset(8)]
    public uint Nanoseconds;

    [FieldOffset(12)]
    public uint SnapLength;

    [FieldOffset(16)]
    public uint Length;

    [FieldOffset(20)]
    public uint Status;

    [FieldOffset(24)]
    public ushort MacOffset;

    [FieldOffset(26)]
    public ushort NetOffset;

    [FieldOffset(28)]
    public uint RxHash;

    [FieldOffset(32)]
    public uint VlanTci;

    [FieldOffset(36)]
    public ushort VlanTpid;
}
