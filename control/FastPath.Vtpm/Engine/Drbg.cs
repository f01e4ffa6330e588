namespace FastPath.Vtpm.Engine;

/// <summary>HMAC_DRBG with SHA-256 (NIST SP 800-90A, 10.1.2). Its state (K, V) is part of the engine state,
/// so two engines fed the same entropy produce the same bytes; <c>StirRandom</c> mixes in additional input.</summary>
/// <remarks>Not thread-safe: owned by the engine's executing thread.</remarks>
internal sealed class Drbg
{
    public const int SeedSize = 32;

    private readonly byte[] _key = new byte[32];
    private readonly byte[] _value = new byte[32];

    public Drbg() => Reset();

    public ReadOnlySpan<byte> Key => _key;

    public ReadOnlySpan<byte> Value => _value;

    public void Reset()
    {
        Array.Clear(_key);
        _value.AsSpan().Fill(0x01);
    }

    public void Restore(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        key.CopyTo(_key);
        value.CopyTo(_value);
    }

    /// <summary>Reseed with entropy and optional additional input.</summary>
    public void Reseed(ReadOnlySpan<byte> entropy, ReadOnlySpan<byte> additional)
    {
        Span<byte> seed = stackalloc byte[entropy.Length + additional.Length];
        entropy.CopyTo(seed);
        additional.CopyTo(seed[entropy.Length..]);
        Update(seed);
    }

    public void Generate(Span<byte> destination)
    {
        int offset = 0;
        while (offset < destination.Length)
        {
            HmacSha256.Compute(_key, _value, _value);
            int take = Math.Min(_value.Length, destination.Length - offset);
            _value.AsSpan(0, take).CopyTo(destination[offset..]);
            offset += take;
        }

        Update([]);
    }

    private void Update(ReadOnlySpan<byte> provided)
    {
        Span<byte> buffer = stackalloc byte[32 + 1 + provided.Length];
        for (byte round = 0; round < 2; round++)
        {
            _value.CopyTo(buffer);
            buffer[32] = round;
            provided.CopyTo(buffer[33..]);
            HmacSha256.Compute(_key, buffer, _key);
            HmacSha256.Compute(_key, _value, _value);
            if (provided.IsEmpty)
            {
                return;
            }
        }
    }
}
