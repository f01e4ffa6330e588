using System.Buffers.Binary;

namespace FastPath.Vtpm.Engine;

/// <summary>HMAC-SHA-256 (RFC 2104) over <see cref="Sha256Block"/>, allocation-free. The DRBG rekeys on every
/// call, and each one-shot <c>HMACSHA256.HashData</c> pays OpenSSL 3's per-call setup (algorithm fetch, context
/// malloc), measured at 8–14 µs here against about 2 µs for the four compressions this does; a GetRandom runs
/// seven of them.</summary>
/// <remarks>Stateless; safe from any thread.</remarks>
internal static class HmacSha256
{
    public const int Size = 32;

    /// <summary>HMAC(<paramref name="key"/>, <paramref name="data"/>) into <paramref name="destination"/> (32 bytes);
    /// the destination may overlap the inputs.</summary>
    public static void Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        Span<byte> block = stackalloc byte[Sha256Block.BlockSize];
        Span<byte> keyBlock = stackalloc byte[Sha256Block.BlockSize];
        keyBlock.Clear();
        if (key.Length > Sha256Block.BlockSize)
        {
            Span<uint> hk = stackalloc uint[8];
            Sha256Block.Initial.CopyTo(hk);
            Finish(hk, key, 0, keyBlock);
        }
        else
        {
            key.CopyTo(keyBlock);
        }

        Span<uint> inner = stackalloc uint[8];
        Sha256Block.Initial.CopyTo(inner);
        for (int i = 0; i < block.Length; i++)
        {
            block[i] = (byte)(keyBlock[i] ^ 0x36);
        }

        Sha256Block.Compress(inner, block);
        Span<byte> innerDigest = stackalloc byte[Size];
        Finish(inner, data, Sha256Block.BlockSize, innerDigest);

        Span<uint> outer = stackalloc uint[8];
        Sha256Block.Initial.CopyTo(outer);
        for (int i = 0; i < block.Length; i++)
        {
            block[i] = (byte)(keyBlock[i] ^ 0x5C);
        }

        Sha256Block.Compress(outer, block);
        Finish(outer, innerDigest, Sha256Block.BlockSize, destination);
        keyBlock.Clear();
        block.Clear();
    }

    /// <summary>Hashes <paramref name="data"/> after <paramref name="prefix"/> bytes already compressed into
    /// <paramref name="h"/>, pads (FIPS 180-4, 5.1.1) and writes the 32-byte digest.</summary>
    private static void Finish(Span<uint> h, ReadOnlySpan<byte> data, int prefix, Span<byte> digest)
    {
        ulong bits = (ulong)(prefix + data.Length) * 8;
        while (data.Length >= Sha256Block.BlockSize)
        {
            Sha256Block.Compress(h, data[..Sha256Block.BlockSize]);
            data = data[Sha256Block.BlockSize..];
        }

        Span<byte> tail = stackalloc byte[2 * Sha256Block.BlockSize];
        tail.Clear();
        data.CopyTo(tail);
        tail[data.Length] = 0x80;
        int length = data.Length + 9 <= Sha256Block.BlockSize ? Sha256Block.BlockSize : 2 * Sha256Block.BlockSize;
        BinaryPrimitives.WriteUInt64BigEndian(tail[(length - 8)..], bits);
        for (int offset = 0; offset < length; offset += Sha256Block.BlockSize)
        {
            Sha256Block.Compress(h, tail.Slice(offset, Sha256Block.BlockSize));
        }

        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(digest[(i * 4)..], h[i]);
        }
    }
}
