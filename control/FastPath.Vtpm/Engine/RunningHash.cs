using System.Buffers.Binary;

namespace FastPath.Vtpm.Engine;

/// <summary>
/// An incremental SHA-1/SHA-256/SHA-384/SHA-512 whose running state can be exported and imported exactly, so an
/// open hash or event sequence travels in the full-state blob (resync, failover, state digest). Neither
/// System.Security.Cryptography's IncrementalHash nor BouncyCastle 2.7.0's digests (IMemoable copies only
/// in-process) can export a running state.
/// </summary>
/// <remarks>Not thread-safe; owned by one sequence object and touched only by the engine's executing thread.
/// State encoding (canonical: equal states give equal bytes): the chaining words big-endian (5 for SHA-1, 8
/// otherwise, SHA-384 keeps all 8), the u64 count of bytes appended, then the count mod block-size bytes not yet
/// compressed.</remarks>
internal sealed class RunningHash
{
    /// <summary>Bit lengths are written as 64 bits (SHA-1/256) or 128 bits (SHA-384/512); 2^61 bytes keeps both exact.</summary>
    private const ulong MaxCount = 1UL << 61;

    private readonly uint[] _words32;
    private readonly ulong[] _words64;
    private readonly byte[] _pending;
    private ulong _count;

    private RunningHash(ushort alg)
    {
        Alg = alg;
        switch (alg)
        {
            case TpmConstants.AlgSha1:
                _words32 = Sha1Block.Initial.ToArray();
                _words64 = [];
                _pending = new byte[Sha1Block.BlockSize];
                break;
            case TpmConstants.AlgSha256:
                _words32 = Sha256Block.Initial.ToArray();
                _words64 = [];
                _pending = new byte[Sha256Block.BlockSize];
                break;
            case TpmConstants.AlgSha384:
                _words32 = [];
                _words64 = Sha512Block.Initial384.ToArray();
                _pending = new byte[Sha512Block.BlockSize];
                break;
            case TpmConstants.AlgSha512:
                _words32 = [];
                _words64 = Sha512Block.Initial512.ToArray();
                _pending = new byte[Sha512Block.BlockSize];
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(alg), alg, "not a hash algorithm the engine implements");
        }
    }

    public ushort Alg { get; }

    /// <summary>Bytes appended so far.</summary>
    public ulong Count => _count;

    private int BlockSize => _pending.Length;

    private int WordBytes => _words32.Length * 4 + _words64.Length * 8;

    private int PendingLength => (int)(_count % (ulong)BlockSize);

    /// <summary>The exported state's length: chaining words, the u64 count, the uncompressed tail.</summary>
    public int StateSize => WordBytes + 8 + PendingLength;

    public static RunningHash Create(ushort alg) => new(alg);

    public void Append(ReadOnlySpan<byte> data)
    {
        int fill = PendingLength;
        _count += (ulong)data.Length;
        if (fill > 0)
        {
            int take = Math.Min(BlockSize - fill, data.Length);
            data[..take].CopyTo(_pending.AsSpan(fill));
            data = data[take..];
            if (fill + take < BlockSize)
            {
                return;
            }

            Compress(_pending);
        }

        while (data.Length >= BlockSize)
        {
            Compress(data[..BlockSize]);
            data = data[BlockSize..];
        }

        data.CopyTo(_pending);
    }

    /// <summary>Writes the digest of everything appended so far; the running state is left as it was.</summary>
    public int Finish(Span<byte> destination)
    {
        int size = HashAlgorithms.DigestSize(Alg);
        int lengthBytes = BlockSize == Sha512Block.BlockSize ? 16 : 8;
        int fill = PendingLength;
        int padded = fill + 1 + lengthBytes <= BlockSize ? BlockSize : 2 * BlockSize;
        Span<byte> tail = stackalloc byte[2 * Sha512Block.BlockSize];
        tail = tail[..padded];
        tail.Clear();
        _pending.AsSpan(0, fill).CopyTo(tail);
        tail[fill] = 0x80;
        if (lengthBytes == 16)
        {
            BinaryPrimitives.WriteUInt64BigEndian(tail[^16..], _count >> 61);
        }

        BinaryPrimitives.WriteUInt64BigEndian(tail[^8..], _count << 3);
        if (_words32.Length > 0)
        {
            Span<uint> words = stackalloc uint[8];
            words = words[.._words32.Length];
            _words32.CopyTo(words);
            for (int offset = 0; offset < padded; offset += BlockSize)
            {
                Compress32(words, tail.Slice(offset, BlockSize));
            }

            for (int i = 0; i < size / 4; i++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(destination[(i * 4)..], words[i]);
            }
        }
        else
        {
            Span<ulong> words = stackalloc ulong[8];
            _words64.CopyTo(words);
            for (int offset = 0; offset < padded; offset += BlockSize)
            {
                Sha512Block.Compress(words, tail.Slice(offset, BlockSize));
            }

            for (int i = 0; i < size / 8; i++)
            {
                BinaryPrimitives.WriteUInt64BigEndian(destination[(i * 8)..], words[i]);
            }
        }

        return size;
    }

    /// <summary>Writes <see cref="StateSize"/> bytes: the canonical encoding of the running state.</summary>
    public void ExportState(Span<byte> destination)
    {
        int offset = 0;
        foreach (uint word in _words32)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination[offset..], word);
            offset += 4;
        }

        foreach (ulong word in _words64)
        {
            BinaryPrimitives.WriteUInt64BigEndian(destination[offset..], word);
            offset += 8;
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination[offset..], _count);
        _pending.AsSpan(0, PendingLength).CopyTo(destination[(offset + 8)..]);
    }

    public byte[] ExportState()
    {
        byte[] state = new byte[StateSize];
        ExportState(state);
        return state;
    }

    /// <summary>Rebuilds a running hash from <see cref="ExportState()"/> bytes; a state of the wrong length for
    /// its algorithm and count is an <see cref="InvalidDataException"/> naming <paramref name="what"/>.</summary>
    public static RunningHash ImportState(ushort alg, ReadOnlySpan<byte> state, string what)
    {
        var hash = new RunningHash(alg);
        int wordBytes = hash.WordBytes;
        if (state.Length < wordBytes + 8)
        {
            throw new InvalidDataException(
                $"vTPM state blob: hash state of {what} is truncated ({state.Length} bytes, at least {wordBytes + 8} needed for 0x{alg:x4})");
        }

        ulong count = BinaryPrimitives.ReadUInt64BigEndian(state[wordBytes..]);
        if (count >= MaxCount)
        {
            throw new InvalidDataException($"vTPM state blob: hash state of {what} claims {count} bytes hashed, more than a hash can take");
        }

        hash._count = count;
        int expected = hash.StateSize;
        if (state.Length != expected)
        {
            throw new InvalidDataException(
                $"vTPM state blob: hash state of {what} is {(state.Length < expected ? "truncated" : "too long")} ({state.Length} bytes, {expected} expected for 0x{alg:x4} after {count} bytes)");
        }

        for (int i = 0; i < hash._words32.Length; i++)
        {
            hash._words32[i] = BinaryPrimitives.ReadUInt32BigEndian(state[(i * 4)..]);
        }

        for (int i = 0; i < hash._words64.Length; i++)
        {
            hash._words64[i] = BinaryPrimitives.ReadUInt64BigEndian(state[(i * 8)..]);
        }

        state[(wordBytes + 8)..].CopyTo(hash._pending);
        return hash;
    }

    private void Compress(ReadOnlySpan<byte> block)
    {
        if (_words32.Length > 0)
        {
            Compress32(_words32, block);
        }
        else
        {
            Sha512Block.Compress(_words64, block);
        }
    }

    private void Compress32(Span<uint> words, ReadOnlySpan<byte> block)
    {
        if (Alg == TpmConstants.AlgSha1)
        {
            Sha1Block.Compress(words, block);
        }
        else
        {
            Sha256Block.Compress(words, block);
        }
    }
}
