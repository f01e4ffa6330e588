using System.Security.Cryptography;

namespace FastPath.Vtpm.Engine;

/// <summary>The TPM hash algorithms the engine implements (SHA-1, SHA-256, SHA-384, SHA-512) mapped onto
/// System.Security.Cryptography one-shot functions.</summary>
/// <remarks>Stateless; safe from any thread.</remarks>
internal static class HashAlgorithms
{
    /// <summary>The PCR banks in the order GetCapability(PCRS) and PCR_Event list them (the order swtpm uses).</summary>
    public static ReadOnlySpan<ushort> Banks => [TpmConstants.AlgSha1, TpmConstants.AlgSha256, TpmConstants.AlgSha384, TpmConstants.AlgSha512];

    public const int MaxDigestSize = 64;

    public static bool IsSupported(ushort alg) => DigestSize(alg) != 0;

    /// <summary>The digest size in bytes, or 0 for an algorithm that is not a supported hash.</summary>
    public static int DigestSize(ushort alg) => alg switch
    {
        TpmConstants.AlgSha1 => 20,
        TpmConstants.AlgSha256 => 32,
        TpmConstants.AlgSha384 => 48,
        TpmConstants.AlgSha512 => 64,
        _ => 0,
    };

    public static HashAlgorithmName Name(ushort alg) => alg switch
    {
        TpmConstants.AlgSha1 => HashAlgorithmName.SHA1,
        TpmConstants.AlgSha256 => HashAlgorithmName.SHA256,
        TpmConstants.AlgSha384 => HashAlgorithmName.SHA384,
        _ => HashAlgorithmName.SHA512,
    };

    public static int Hash(ushort alg, ReadOnlySpan<byte> data, Span<byte> destination) => alg switch
    {
        TpmConstants.AlgSha1 => SHA1.HashData(data, destination),
        TpmConstants.AlgSha256 => SHA256.HashData(data, destination),
        TpmConstants.AlgSha384 => SHA384.HashData(data, destination),
        _ => SHA512.HashData(data, destination),
    };

    public static int Hmac(ushort alg, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, Span<byte> destination) => alg switch
    {
        TpmConstants.AlgSha1 => HMACSHA1.HashData(key, data, destination),
        TpmConstants.AlgSha256 => HMACSHA256.HashData(key, data, destination),
        TpmConstants.AlgSha384 => HMACSHA384.HashData(key, data, destination),
        _ => HMACSHA512.HashData(key, data, destination),
    };

    /// <summary>Extends: <c>value = H(value || data)</c>, in place.</summary>
    public static void Extend(ushort alg, Span<byte> value, ReadOnlySpan<byte> data)
    {
        int size = value.Length;
        Span<byte> buffer = stackalloc byte[MaxDigestSize + MaxDigestSize];
        if (size + data.Length <= buffer.Length)
        {
            value.CopyTo(buffer);
            data.CopyTo(buffer[size..]);
            Hash(alg, buffer[..(size + data.Length)], value);
            return;
        }

        using var hash = IncrementalHash.CreateHash(Name(alg));
        hash.AppendData(value);
        hash.AppendData(data);
        hash.GetHashAndReset(value);
    }
}
