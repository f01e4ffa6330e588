using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace FastPath.Dataplane.Mapping;

/// <summary>Cold throw paths of the mapping table, out of line so hot callers stay small and inlinable.</summary>
/// <remarks>Stateless; thread-safe.</remarks>
internal static class MappingThrowHelper
{
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowTenantOutOfRange(int tenant) =>
        throw new ArgumentOutOfRangeException(nameof(tenant), tenant, $"tenant {tenant} is outside 0-{MappingKey.MaxTenant}");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowBadAddressLength(int length) =>
        throw new ArgumentException($"an address has 4 (IPv4) or 16 (IPv6) bytes, not {length}", "address");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowFamilyMismatch(MappingKey user, MappingKey secure) =>
        throw new ArgumentException($"user address {user} and secure address {secure} are of different families");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowBadEntry(string why) => throw new ArgumentException(why);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowResultsTooShort(int keys, int results) =>
        throw new ArgumentException($"{keys} keys need as many results, got room for {results}", "results");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowCapacity(long requested) =>
        throw new ArgumentOutOfRangeException(nameof(requested), requested, $"a mapping table holds at most {MappingStore.MaxEntries} entries");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowTooManyReaders(int max) =>
        throw new InvalidOperationException($"all {max} reader slots of the mapping epoch are taken");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void ThrowBadReader(int reader) =>
        throw new ArgumentOutOfRangeException(nameof(reader), reader, "not a registered reader of this epoch");
}
