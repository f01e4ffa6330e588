using System.Buffers.Binary;

namespace FastPath.Vtpm.Engine;

/// <summary>Big-endian writer into the engine's response buffer. Responses are bounded by construction
/// (every variable part is capped before it is written), so a write past the end is an engine defect and
/// surfaces as TPM_RC_FAILURE from <see cref="TpmEngine.Execute"/>.</summary>
/// <remarks>A ref struct on the executing thread's stack; not shared.</remarks>
internal ref struct TpmWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    public TpmWriter(Span<byte> buffer, int position)
    {
        _buffer = buffer;
        _position = position;
    }

    public readonly int Position => _position;

    public readonly Span<byte> Written => _buffer[.._position];

    public void U8(byte value) => _buffer[_position++] = value;

    public void U16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[_position..], value);
        _position += 2;
    }

    public void U32(uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_buffer[_position..], value);
        _position += 4;
    }

    public void U64(ulong value)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_buffer[_position..], value);
        _position += 8;
    }

    public void Bytes(scoped ReadOnlySpan<byte> value)
    {
        value.CopyTo(_buffer[_position..]);
        _position += value.Length;
    }

    public void Tpm2B(scoped ReadOnlySpan<byte> value)
    {
        U16((ushort)value.Length);
        Bytes(value);
    }

    /// <summary>Reserves a big-endian u32 to be filled later (parameterSize, counts).</summary>
    public int ReserveU32()
    {
        int at = _position;
        _position += 4;
        return at;
    }

    public readonly void PatchU32(int at, uint value) => BinaryPrimitives.WriteUInt32BigEndian(_buffer[at..], value);

    /// <summary>Reserves a u16 size prefix for a nested structure (TPM2B_NV_PUBLIC and the like).</summary>
    public int ReserveU16()
    {
        int at = _position;
        _position += 2;
        return at;
    }

    public readonly void PatchU16(int at, ushort value) => BinaryPrimitives.WriteUInt16BigEndian(_buffer[at..], value);
}
