using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Interop;

/// <summary><c>struct tpacket2_hdr</c> (32 bytes): the header at the start of each TPACKET_V2 RX ring frame.</summary>
/// <remarks>
/// <see cref="Status"/> is the hand-off word: the kernel sets TP_STATUS_USER after the frame and every other field
/// are written (smp_wmb in __packet_set_status), user space sets TP_STATUS_KERNEL when done with the frame.
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = 32)]
internal struct TPacket2Hdr
{
    [FieldOffset(0)]
    public uint Status;

    [FieldOffset(4)]
    public uint Length;

    [FieldOffset(8)]
    public uint SnapLength;

    [FieldOffset(12)]
    public ushort MacOffset;

    [FieldOffset(14)]
    public ushort NetOffset;

    [FieldOffset(24)]
    public ushort VlanTci;

    [FieldOffset(26)]
    public ushort VlanTpid;
}
