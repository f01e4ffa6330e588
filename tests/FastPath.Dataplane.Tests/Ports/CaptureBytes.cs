using System.Buffers.Binary;

namespace FastPath.Dataplane.Tests.Ports;

/// <summary>Builds pcap and pcapng files byte by byte, so tests can state exactly what is malformed.</summary>
internal sealed class CaptureBytes
{
    private readonly List<byte> _bytes = [];
    private readonly bool _bigEndian;

    public CaptureBytes(bool bigEndian = false) => _bigEndian = bigEndian;

    public int Length => _bytes.Count;

    public CaptureBytes U16(int value)
    {
        Span<byte> b = stackalloc byte[2];
        if (_bigEndian) BinaryPrimitives.WriteUInt16BigEndian(b, (ushort)value); else BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)value);
        _bytes.AddRange(b.ToArray());
        return this;
    }

    public CaptureBytes U32(uint value)
    {
        Span<byte> b = stackalloc byte[4];
        if (_bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, value); else BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        _bytes.AddRange(b.ToArray());
        return this;
    }

    public CaptureBytes U64(ulong value) => _bigEndian ? U32((uint)(value >> 32)).U32((uint)value) : U32((uint)value).U32((uint)(value >> 32));

    public CaptureBytes Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public CaptureBytes PcapHeader(uint magic = 0xa1b2c3d4, uint linkType = 1) =>
        U32(magic).U16(2).U16(4).U32(0).U32(0).U32(65535).U32(linkType);

    public CaptureBytes PcapRecord(uint seconds, uint fraction, byte[] data, uint? capLength = null, uint? originalLength = null) =>
        U32(seconds).U32(fraction).U32(capLength ?? (uint)data.Length).U32(originalLength ?? (uint)data.Length).Raw(data);

    public CaptureBytes SectionHeader() => Block(0x0A0D0D0A, b => b.U32(0x1A2B3C4D).U16(1).U16(0).U64(ulong.MaxValue));

    public CaptureBytes Interface(int linkType = 1, uint snapLength = 0, byte? tsResolution = null, long? tsOffset = null) =>
        Block(1, b =>
        {
            b.U16(linkType).U16(0).U32(snapLength);
            if (tsResolution is byte r)
            {
                b.U16(9).U16(1).Raw(r, 0, 0, 0);
            }

            if (tsOffset is long o)
            {
                b.U16(14).U16(8).U64((ulong)o);
            }

            b.U32(0);
        });

    public CaptureBytes EnhancedPacket(uint interfaceId, ulong units, byte[] data, uint? capLength = null, uint? originalLength = null) =>
        Block(6, b => b.U32(interfaceId).U32((uint)(units >> 32)).U32((uint)units)
            .U32(capLength ?? (uint)data.Length).U32(originalLength ?? (uint)data.Length).Raw(data).Pad());

    public CaptureBytes SimplePacket(byte[] data, uint? originalLength = null) =>
        Block(3, b => b.U32(originalLength ?? (uint)data.Length).Raw(data).Pad());

    public CaptureBytes Block(uint type, Action<CaptureBytes> body, int trailerDelta = 0)
    {
        var inner = new CaptureBytes(_bigEndian);
        body(inner);
        uint total = (uint)(inner.Length + 12);
        if (type == 0x0A0D0D0A)
        {
            Raw(0x0A, 0x0D, 0x0D, 0x0A);
        }
        else
        {
            U32(type);
        }

        U32(total);
        _bytes.AddRange(inner._bytes);
        return U32((uint)(total + trailerDelta));
    }

    public CaptureBytes Pad()
    {
        while (_bytes.Count % 4 != 0)
        {
            _bytes.Add(0);
        }

        return this;
    }

    public byte[] ToArray() => [.. _bytes];

    public string WriteTo(string path)
    {
        File.WriteAllBytes(path, ToArray());
        return path;
    }

    public static byte[] Frame(int length, byte seed)
    {
        var frame = new byte[length];
        for (int i = 0; i < length; i++)
        {
            frame[i] = (byte)(seed + i * 7);
        }

        return frame;
    }
}
