using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace FastPath.Dataplane.Mapping;

/// <summary>
/// The table's keyed hash: two folded 64×64→128-bit multiplies over the key's three words, each word
/// first XORed with a secret 64-bit seed word.
/// </summary>
/// <remarks>
/// Immutable; thread-safe. Why this mixer: it is the folded-multiply construction of wyhash and of
/// aHash's fallback, ≈ 8 cycles for a 20-byte key, against ≈ 40–50 for SipHash-1-3 over the same 24
/// bytes — and the goal is a whole bulk lookup in ~40 cycles per key. Hash values never leave the process
/// (only bucket choice is observable, through timing), which is the threat model these keyed mixers are
/// built for; SipHash would be the choice if hash values were exposed. The seed is what makes it safe:
/// with a zero seed an IPv4 key (address high word 0) multiplies by 0 and every IPv4 key collides, which
/// is exactly what the adversarial-key test builds on. Per-process seed from the OS CSPRNG, as S
/// ctable.lua reseeds per table.
/// </remarks>
internal readonly struct KeyedHash
{
    private readonly ulong _seed0;
    private readonly ulong _seed1;
    private readonly ulong _seed2;
    private readonly ulong _seed3;

    internal KeyedHash(ulong seed0, ulong seed1, ulong seed2, ulong seed3)
    {
        _seed0 = seed0;
        _seed1 = seed1;
        _seed2 = seed2;
        _seed3 = seed3;
    }

    /// <summary>This process's seed, drawn once from the OS CSPRNG.</summary>
    internal static KeyedHash Process { get; } = CreateRandom();

    /// <summary>The unkeyed mixer (all seed words 0); tests only, to build colliding keys.</summary>
    internal static KeyedHash Unkeyed => default;

    internal static KeyedHash CreateRandom()
    {
        Span<ulong> seed = stackalloc ulong[4];
        RandomNumberGenerator.Fill(System.Runtime.InteropServices.MemoryMarshal.AsBytes(seed));
        return new KeyedHash(seed[0], seed[1], seed[2], seed[3]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Hash(ulong low, ulong high, uint meta)
    {
        ulong first = Fold(low ^ _seed0, high ^ _seed1);
        return Fold(first ^ meta ^ _seed2, _seed3 ^ ((ulong)meta << 32));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Fold(ulong x, ulong y)
    {
        ulong high = Math.BigMul(x, y, out ulong low);
        return high ^ low;
    }
}
