using System.Buffers;
using System.Buffers.Binary;

namespace FastPath.Vtpm.Engine;

/// <summary>Growable big-endian writer for the canonical state blob (sizes are not bounded like responses).</summary>
/// <remarks>Not thread-safe; one per serialization.</remarks>
internal sealed class BlobWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);

    public void U8(byte value) => Advance1(value);

    public void Bool(bool value) => Advance1(value ? (byte)1 : (byte)0);

    public void U16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer.GetSpan(2), value);
        _buffer.Advance(2);
    }

    public void U32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void U64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    /// <summary>u32 length + bytes.</summary>
    public void Blob(ReadOnlySpan<byte> value)
    {
        U32((uint)value.Length);
        _buffer.Write(value);
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    private void Advance1(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }
}
