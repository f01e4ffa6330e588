using System.Buffers.Binary;

namespace FastPath.Dataplane.Ports;

/// <summary>pcapng output: one section, one Ethernet interface (with <c>if_tsresol</c> 6 or 9), EPBs.</summary>
/// <remarks>Not thread-safe (see <see cref="CaptureWriter"/>).</remarks>
internal sealed class PcapNgWriter : CaptureWriter
{
    private const int SectionHeaderLength = 28;
    private const int InterfaceBlockLength = 32; // 20 fixed + if_tsresol option (8) + opt_endofopt (4).
    private const int EnhancedPacketFixedLength = 32;

    internal PcapNgWriter(string path, CaptureFormat format)
        : base(path, format)
    {
        Span<byte> shb = stackalloc byte[SectionHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(shb, PcapNgReader.SectionHeaderBlockType);
        BinaryPrimitives.WriteUInt32LittleEndian(shb[4..], SectionHeaderLength);
        BinaryPrimitives.WriteUInt32LittleEndian(shb[8..], PcapNgReader.ByteOrderMagic);
        BinaryPrimitives.WriteUInt16LittleEndian(shb[12..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(shb[14..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(shb[16..], -1); // Section length not known in advance.
        BinaryPrimitives.WriteUInt32LittleEndian(shb[24..], SectionHeaderLength);
        WriteBytes(shb);

        Span<byte> idb = stackalloc byte[InterfaceBlockLength];
        idb.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(idb, PcapNgReader.InterfaceDescriptionBlockType);
        BinaryPrimitives.WriteUInt32LittleEndian(idb[4..], InterfaceBlockLength);
        BinaryPrimitives.WriteUInt16LittleEndian(idb[8..], CaptureFormat.LinkTypeEthernet);
        BinaryPrimitives.WriteUInt32LittleEndian(idb[12..], (uint)format.SnapLength);
        BinaryPrimitives.WriteUInt16LittleEndian(idb[16..], PcapNgReader.OptionTsResol);
        BinaryPrimitives.WriteUInt16LittleEndian(idb[18..], 1);
        idb[20] = format.Nanoseconds ? (byte)9 : (byte)6;
        // idb[24..28] is opt_endofopt (zero).
        BinaryPrimitives.WriteUInt32LittleEndian(idb[28..], InterfaceBlockLength);
        WriteBytes(idb);
    }

    private protected override void WriteRecord(ReadOnlySpan<byte> frame, long timestampNanoseconds, int originalLength)
    {
        int padded = (frame.Length + 3) & ~3;
        uint total = (uint)(EnhancedPacketFixedLength + padded);
        ulong units = Format.Nanoseconds ? (ulong)timestampNanoseconds : (ulong)(timestampNanoseconds / 1000);

        Span<byte> head = stackalloc byte[28];
        BinaryPrimitives.WriteUInt32LittleEndian(head, PcapNgReader.EnhancedPacketBlockType);
        BinaryPrimitives.WriteUInt32LittleEndian(head[4..], total);
        BinaryPrimitives.WriteUInt32LittleEndian(head[8..], 0); // Interface 0.
        BinaryPrimitives.WriteUInt32LittleEndian(head[12..], (uint)(units >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(head[16..], (uint)units);
        BinaryPrimitives.WriteUInt32LittleEndian(head[20..], (uint)frame.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(head[24..], (uint)originalLength);
        WriteBytes(head);
        WriteBytes(frame);

        Span<byte> tail = stackalloc byte[8];
        tail.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(tail[(padded - frame.Length)..], total);
        WriteBytes(tail[..(padded - frame.Length + 4)]);
    }
}
