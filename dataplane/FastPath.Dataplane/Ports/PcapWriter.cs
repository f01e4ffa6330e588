using System.Buffers.Binary;

namespace FastPath.Dataplane.Ports;

/// <summary>Classic pcap output, version 2.4, microsecond or nanosecond magic per the format.</summary>
/// <remarks>Not thread-safe (see <see cref="CaptureWriter"/>).</remarks>
internal sealed class PcapWriter : CaptureWriter
{
    internal PcapWriter(string path, CaptureFormat format)
        : base(path, format)
    {
        Span<byte> header = stackalloc byte[PcapReader.FileHeaderLength];
        BinaryPrimitives.WriteUInt32LittleEndian(header, format.Nanoseconds ? PcapReader.MagicNanoseconds : PcapReader.MagicMicroseconds);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], 0); // thiszone: timestamps are UTC.
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0); // sigfigs
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], (uint)format.SnapLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], CaptureFormat.LinkTypeEthernet);
        WriteBytes(header);
    }

    private protected override void WriteRecord(ReadOnlySpan<byte> frame, long timestampNanoseconds, int originalLength)
    {
        Span<byte> record = stackalloc byte[PcapReader.RecordHeaderLength];
        long seconds = timestampNanoseconds / 1_000_000_000L;
        long nanoseconds = timestampNanoseconds % 1_000_000_000L;
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], (uint)(Format.Nanoseconds ? nanoseconds : nanoseconds / 1000));
        BinaryPrimitives.WriteUInt32LittleEndian(record[8..], (uint)frame.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record[12..], (uint)originalLength);
        WriteBytes(record);
        WriteBytes(frame);
    }
}
