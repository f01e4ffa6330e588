using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace FastPath.Dataplane.Ports;

/// <summary>Classic pcap: 24-byte file header, then 16-byte record headers each followed by caplen bytes.</summary>
/// <remarks>Not thread-safe (see <see cref="CaptureReader"/>).</remarks>
internal sealed class PcapReader : CaptureReader
{
    internal const uint MagicMicroseconds = 0xa1b2c3d4;
    internal const uint MagicNanoseconds = 0xa1b23c4d;
    internal const uint MagicMicrosecondsSwapped = 0xd4c3b2a1;
    internal const uint MagicNanosecondsSwapped = 0x4d3cb2a1;
    internal const int FileHeaderLength = 24;
    internal const int RecordHeaderLength = 16;

    private readonly bool _swapped;
    private readonly bool _nanoseconds;
    private readonly CaptureFormat _format;
    private long _offset = FileHeaderLength;

    internal PcapReader(string path, SafeFileHandle file, long length, uint magic)
        : base(path, file, length)
    {
        _swapped = magic is MagicMicrosecondsSwapped or MagicNanosecondsSwapped;
        _nanoseconds = magic is MagicNanoseconds or MagicNanosecondsSwapped;
        if (length < FileHeaderLength)
        {
            throw Error(0, $"truncated file header ({length} of {FileHeaderLength} bytes)");
        }

        // The top bits of the link-type word carry FCS information (pcap-linktype(7)); the type is the low 28 bits.
        uint linkType = U32(20) & 0x0FFF_FFFF;
        if (linkType != CaptureFormat.LinkTypeEthernet)
        {
            throw Error(20, $"link type {linkType} is not Ethernet ({CaptureFormat.LinkTypeEthernet})");
        }

        uint snap = U32(16);
        _format = new CaptureFormat(CaptureFileKind.Pcap, _nanoseconds, snap is > 0 and <= CaptureFormat.MaxSnapLength ? (int)snap : CaptureFormat.MaxSnapLength);
    }

    public override CaptureFormat Format => _format;

    public override bool TryReadNext(out CapturedPacket packet)
    {
        long record = _offset;
        if (record == Length)
        {
            packet = default;
            return false;
        }

        if (Length - record < RecordHeaderLength)
        {
            throw Error(record, $"truncated record header ({Length - record} of {RecordHeaderLength} bytes)");
        }

        uint seconds = U32(record);
        uint fraction = U32(record + 4);
        uint capLength = U32(record + 8);
        uint originalLength = U32(record + 12);
        if (capLength > CaptureFormat.MaxSnapLength)
        {
            throw Error(record + 8, $"absurd caplen {capLength} (limit {CaptureFormat.MaxSnapLength})");
        }

        long data = record + RecordHeaderLength;
        if (Length - data < capLength)
        {
            throw Error(record, $"truncated packet data: caplen {capLength} but {Length - data} bytes left");
        }

        long nanoseconds = seconds * 1_000_000_000L + (_nanoseconds ? fraction : fraction * 1000L);
        _offset = data + capLength;
        PacketsRead++;
        packet = new CapturedPacket(Bytes(data, (int)capLength), nanoseconds, (int)Math.Min(originalLength, int.MaxValue), record);
        return true;
    }

    private uint U32(long offset)
    {
        uint value = BinaryPrimitives.ReadUInt32LittleEndian(Bytes(offset, 4));
        return _swapped ? BinaryPrimitives.ReverseEndianness(value) : value;
    }
}
