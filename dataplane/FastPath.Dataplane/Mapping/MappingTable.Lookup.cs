using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Mapping;

public sealed partial class MappingTable
{
    /// <summary>Most keys per bulk call that the worker's batches use; any count works, in chunks of 32.</summary>
    public const int MaxBurst = 256;

    /// <summary>Looks up (tenant, user address); on a hit <paramref name="result"/> holds the secure address.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryLookupUser(in MappingKey key, out MappingResult result)
    {
        result = default;
        return Current.Find<UserSide>(in key, ref result);
    }

    /// <summary>Looks up a secure address (its tenant is ignored); on a hit <paramref name="result"/> holds the tenant and user address.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryLookupSecure(in MappingKey key, out MappingResult result)
    {
        result = default;
        return Current.Find<SecureSide>(in key, ref result);
    }

    /// <summary>
    /// Looks up every user key of a batch with overlapped cache misses; <c>results[i]</c> answers
    /// <c>keys[i]</c> (<see cref="MappingResult.Found"/> per key). Returns the number of hits.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="results"/> is shorter than <paramref name="keys"/>.</exception>
    public unsafe int LookupUserBulk(ReadOnlySpan<MappingKey> keys, Span<MappingResult> results)
    {
        CheckLengths(keys.Length, results.Length);
        fixed (MappingKey* k = &MemoryMarshal.GetReference(keys))
        fixed (MappingResult* r = &MemoryMarshal.GetReference(results))
        {
            return Current.LookupBulk<UserSide>(k, r, keys.Length);
        }
    }

    /// <summary>Bulk lookup by secure address; see <see cref="LookupUserBulk"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="results"/> is shorter than <paramref name="keys"/>.</exception>
    public unsafe int LookupSecureBulk(ReadOnlySpan<MappingKey> keys, Span<MappingResult> results)
    {
        CheckLengths(keys.Length, results.Length);
        fixed (MappingKey* k = &MemoryMarshal.GetReference(keys))
        fixed (MappingResult* r = &MemoryMarshal.GetReference(results))
        {
            return Current.LookupBulk<SecureSide>(k, r, keys.Length);
        }
    }

    /// <summary>Buckets a user-key lookup visits now (diagnostics and the adversarial-key test).</summary>
    internal int CountUserProbes(in MappingKey key) => Current.CountProbes<UserSide>(in key);

    /// <summary>Buckets a secure-key lookup visits now.</summary>
    internal int CountSecureProbes(in MappingKey key) => Current.CountProbes<SecureSide>(in key);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckLengths(int keys, int results)
    {
        if (results < keys)
        {
            MappingThrowHelper.ThrowResultsTooShort(keys, results);
        }
    }
}
