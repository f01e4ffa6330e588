using System.Runtime.CompilerServices;

namespace FastPath.Dataplane.Mapping;

/// <summary>Lookups by secure address (any tenant), answering the tenant and user address.</summary>
/// <remarks>Stateless; thread-safe.</remarks>
internal readonly unsafe struct SecureSide : IMappingSide
{
    public static bool IsUser => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint HashMeta(uint keyMeta) => keyMeta & MappingKey.FamilyBits;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Match(byte* entry, in MappingKey key, ref MappingResult result)
    {
        // Seqlock read as in UserSide.Match.
        uint before = Volatile.Read(ref Unsafe.AsRef<uint>(entry + MappingEntryLayout.Version));
        uint meta = Volatile.Read(ref Unsafe.AsRef<uint>(entry + MappingEntryLayout.Meta));
        ulong userLow = Volatile.Read(ref Unsafe.AsRef<ulong>(entry + MappingEntryLayout.User));
        ulong userHigh = Volatile.Read(ref Unsafe.AsRef<ulong>(entry + MappingEntryLayout.User + 8));
        ulong secureLow = Volatile.Read(ref Unsafe.AsRef<ulong>(entry + MappingEntryLayout.Secure));
        ulong secureHigh = Volatile.Read(ref Unsafe.AsRef<ulong>(entry + MappingEntryLayout.Secure + 8));
        uint after = Volatile.Read(ref Unsafe.AsRef<uint>(entry + MappingEntryLayout.Version));
        if (((before & 1) | (before ^ after)) != 0 || (meta & MappingKey.FamilyBits) != (key.Meta & MappingKey.FamilyBits) || (meta & MappingKey.FamilyBits) == 0 ||
            secureLow != key.Low || secureHigh != key.High)
        {
            return false;
        }

        result.Low = userLow;
        result.High = userHigh;
        result.Meta = meta;
        result.FoundWord = 1;
        return true;
    }
}
