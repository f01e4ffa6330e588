using System.Runtime.CompilerServices;

namespace FastPath.Dataplane.Mapping;

/// <summary>Lookups by (tenant, user address), answering the secure address.</summary>
/// <remarks>Stateless; thread-safe.</remarks>
internal readonly unsafe struct UserSide : IMappingSide
{
    public static bool IsUser => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint HashMeta(uint keyMeta) => keyMeta;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Match(byte* entry, in MappingKey key, ref MappingResult result)
    {
        // Acquire loads in order: version, fields, version again. Each acquire keeps the loads after it
        // from moving above it, so the second version load comes after every field load (seqlock reader).
        uint before = Volatile.Read(ref Unsafe.AsRef<uint>(entry + MappingEntryLayout.Version));
        uint meta = Volatile.Read(ref Unsafe.AsRef<uint>(entry + MappingEntryLayout.Meta));
        ulong userLow = Volatile.Read(ref Unsafe.AsRef<ulong>(entry + MappingEntryLayout.User));
        ulong userHigh = Volatile.Read(ref Unsafe.AsRef<ulong>(entry + MappingEntryLayout.User + 8));
        ulong secureLow = Volatile.Read(ref Unsafe.AsRef<ulong>(entry + MappingEntryLayout.Secure));
        ulong secureHigh = Volatile.Read(ref Unsafe.AsRef<ulong>(entry + MappingEntryLayout.Secure + 8));
        uint after = Volatile.Read(ref Unsafe.AsRef<uint>(entry + MappingEntryLayout.Version));
        if (((before & 1) | (before ^ after)) != 0 || meta != key.Meta || (meta & MappingKey.FamilyBits) == 0 ||
            userLow != key.Low || userHigh != key.High)
        {
            return false;
        }

        result.Low = secureLow;
        result.High = secureHigh;
        result.Meta = meta & MappingKey.FamilyBits;
        result.FoundWord = 1;
        return true;
    }
}
