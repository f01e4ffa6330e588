using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Interop;

/// <summary><c>struct tpacket3_hdr</c> (48 bytes): the header before each frame in a TPACKET_V3 RX block or TX slot.</summary>
/// <remarks>
/// RX: read only while its block belongs to user space. TX: <see cref="Status"/> is the hand-over word
/// (TP_STATUS_AVAILABLE ↔ TP_STATUS_SEND_REQUEST); the frame bytes follow at offset 48.
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = 48)]
internal struct TPacket3Hdr
{
    /// <summary>TPACKET_ALIGN(sizeof(struct tpacket3_hdr)): where a TX frame's data starts inside its slot.</summary>
    public const int AlignedSize = 48;

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
