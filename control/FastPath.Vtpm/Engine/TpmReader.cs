using System.Buffers.Binary;

namespace FastPath.Vtpm.Engine;

/// <summary>Big-endian reader over one command buffer that never reads outside it: every read checks the
/// remaining length first and reports a short buffer by returning false (callers answer TPM_RC_INSUFFICIENT).</summary>
/// <remarks>A ref struct on the executing thread's stack; not shared.</remarks>
internal ref struct TpmReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public TpmReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Position => _position;

    public readonly int Remaining => _buffer.Length - _position;

    public readonly ReadOnlySpan<byte> Rest => _buffer[_position..];

    public bool TryU8(out byte value)
    {
        if (Remaining < 1)
        {
            value = 0;
            return false;
        }

        value = _buffer[_position++];
        return true;
    }

    public bool TryU16(out ushort value)
    {
        if (Remaining < 2)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt16BigEndian(_buffer[_position..]);
        _position += 2;
        return true;
    }

    public bool TryU32(out uint value)
    {
        if (Remaining < 4)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt32BigEndian(_buffer[_position..]);
        _position += 4;
        return true;
    }

    public bool TryU64(out ulong value)
    {
        if (Remaining < 8)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt64BigEndian(_buffer[_position..]);
        _position += 8;
        return true;
    }

    public bool TryBytes(int count, out ReadOnlySpan<byte> value)
    {
        if ((uint)count > (uint)Remaining)
        {
            value = default;
            return false;
        }

        value = _buffer.Slice(_position, count);
        _position += count;
        return true;
    }

    /// <summary>Reads a TPM2B (u16 size + bytes). Returns <see cref="TpmRc.Insufficient"/> when the buffer is
    /// short, <see cref="TpmRc.Size"/> when the size exceeds <paramref name="maxSize"/>, else success.</summary>
    public uint Read2B(int maxSize, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (!TryU16(out ushort size))
        {
            return TpmRc.Insufficient;
        }

        if (size > maxSize)
        {
            return TpmRc.Size;
        }

        return TryBytes(size, out value) ? TpmRc.Success : TpmRc.Insufficient;
    }
}
