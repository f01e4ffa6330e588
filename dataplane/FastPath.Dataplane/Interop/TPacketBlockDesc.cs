using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Interop;

/// <summary>
/// The head of one TPACKET_V3 RX block (<c>struct tpacket_block_desc</c> with its <c>tpacket_hdr_v1</c>), up to the
/// fields the reader needs; the timestamps that follow are not declared.
/// </summary>
/// <remarks>
/// Shared with the kernel through the mmap'd ring: <see cref="BlockStatus"/> is the hand-over word (kernel sets
/// TP_STATUS_USER when it retires the block, user space writes TP_STATUS_KERNEL to give it back); everything else
/// is read only while the block belongs to user space.
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = 24)]
internal struct TPacketBlockDesc
{
    [FieldOffset(0)]
    public uint Version;

    [FieldOffset(4)]
    public uint OffsetToPrivate;

    [FieldOffset(8)]
    public uint BlockStatus;

    [FieldOffset(12)]
    public uint PacketCount;

    [FieldOffset(16)]
    public uint OffsetToFirstPacket;

    [FieldOffset(20)]
    public uint BlockLength;
}
