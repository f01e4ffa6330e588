using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Mapping;

/// <summary>
/// The outcome of one lookup: whether the key was found and, if so, the other side of the mapping — the
/// secure address for a user-side lookup, the (tenant, user address) for a secure-side lookup.
/// </summary>
/// <remarks>Plain value written by the looking-up thread only. Same 20-byte shape as <see cref="MappingKey"/> plus a flag.</remarks>
[StructLayout(LayoutKind.Sequential, Pack = 4, Size = Size)]
public struct MappingResult
{
    /// <summary>Size of one result in bytes.</summary>
    public const int Size = 24;

    internal ulong Low;
    internal ulong High;
    internal uint Meta;
    internal uint FoundWord;

    /// <summary>Whether the key had a mapping; every other field is 0 when it had none.</summary>
    public readonly bool Found => FoundWord != 0;

    /// <summary>After a secure-side lookup, the user side's tenant (VLAN ID, 0 untagged); 0 after a user-side lookup.</summary>
    public readonly ushort Tenant => (ushort)Meta;

    /// <summary><see cref="MappingKey.IPv4"/> or <see cref="MappingKey.IPv6"/>, 0 on a miss.</summary>
    public readonly byte Family => (byte)(Meta >> 16);

    /// <summary>The other side as a key: (tenant, user address) after a secure lookup, (0, secure address) after a user lookup.</summary>
    public readonly MappingKey OtherSide => new(Low, High, Meta);

    /// <summary>Writes the other side's 4 or 16 address bytes (network order); returns how many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly unsafe int WriteAddress(byte* destination) => OtherSide.WriteAddress(destination);

    /// <summary>The other side's address (allocates; for the control plane and tests).</summary>
    public readonly IPAddress? Address => Found ? OtherSide.ToAddress() : null;

    /// <inheritdoc/>
    public override readonly string ToString() => Found ? $"found {Tenant}/{OtherSide.ToAddress()}" : "miss";
}
