using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Mapping;

/// <summary>
/// A lookup key of the mapping table: (tenant, IPv4 or IPv6 address) on the user side, or a bare address
/// (tenant 0) on the secure side. IPv4 addresses sit in the first 4 address bytes, the rest is zero.
/// </summary>
/// <remarks>
/// Immutable value; safe to share. 20 bytes (two address words and one word holding tenant and family)
/// so a key compares with three integer compares and a 256-key batch fits in 5 KiB of L1.
/// </remarks>
[StructLayout(LayoutKind.Sequential, Pack = 4, Size = Size)]
public readonly struct MappingKey : IEquatable<MappingKey>
{
    /// <summary>Size of one key in bytes.</summary>
    public const int Size = 20;

    /// <summary>Family code of an IPv4 key (the IP version number).</summary>
    public const byte IPv4 = 4;

    /// <summary>Family code of an IPv6 key (the IP version number).</summary>
    public const byte IPv6 = 6;

    /// <summary>Highest tenant: 802.1Q VLAN IDs run 1–4094 (4095 is reserved), 0 means untagged.</summary>
    public const ushort MaxTenant = FastPath.Dataplane.Tenant.Max;

    // Address bytes 0–7 and 8–15 as they sit in the packet (network order, read little-endian).
    internal readonly ulong Low;
    internal readonly ulong High;

    // Tenant in bits 0–15, family in bits 16–23; bits 24–31 stay zero so the word compares as a whole
    // against the entry's (tenant, family, reserved) word.
    internal readonly uint Meta;

    /// <summary>The family's bits in <see cref="Meta"/>: a secure-side key's whole meta, and a non-zero family marks a used entry.</summary>
    internal const uint FamilyBits = 0x00FF_0000;

    internal MappingKey(ulong low, ulong high, uint meta)
    {
        Low = low;
        High = high;
        Meta = meta;
    }

    /// <summary>802.1Q VLAN ID of the user side (0 untagged); always 0 for a secure-side key.</summary>
    public ushort Tenant => (ushort)Meta;

    /// <summary><see cref="IPv4"/> or <see cref="IPv6"/>; 0 for the default (empty) key.</summary>
    public byte Family => (byte)(Meta >> 16);

    /// <summary>A user-side key from a managed address; rejects tenants above <see cref="MaxTenant"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The tenant is outside 0–4094.</exception>
    /// <exception cref="ArgumentException">The address is neither IPv4 nor IPv6.</exception>
    public static MappingKey User(int tenant, IPAddress address)
    {
        if ((uint)tenant > MaxTenant)
        {
            MappingThrowHelper.ThrowTenantOutOfRange(tenant);
        }

        return FromAddress((ushort)tenant, address);
    }

    /// <summary>A secure-side key (no tenant) from a managed address.</summary>
    /// <exception cref="ArgumentException">The address is neither IPv4 nor IPv6.</exception>
    public static MappingKey Secure(IPAddress address) => FromAddress(0, address);

    /// <summary>
    /// A key straight from packet bytes: <paramref name="address"/> points at the 4 (IPv4) or 16 (IPv6)
    /// address bytes of an IP header. No validation: the parser has checked the family, and a key with
    /// VLAN ID 4095 simply misses.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe MappingKey FromPacket(ushort tenant, byte* address, byte family)
    {
        if (family == IPv4)
        {
            return new MappingKey(Unsafe.ReadUnaligned<uint>(address), 0, tenant | ((uint)IPv4 << 16));
        }

        return new MappingKey(
            Unsafe.ReadUnaligned<ulong>(address),
            Unsafe.ReadUnaligned<ulong>(address + 8),
            tenant | ((uint)family << 16));
    }

    /// <summary>A key from 4 (IPv4) or 16 (IPv6) address bytes in network order.</summary>
    /// <exception cref="ArgumentException">The span is neither 4 nor 16 bytes long.</exception>
    public static MappingKey FromBytes(ushort tenant, ReadOnlySpan<byte> address)
    {
        if (address.Length == 4)
        {
            return new MappingKey(MemoryMarshal.Read<uint>(address), 0, tenant | ((uint)IPv4 << 16));
        }

        if (address.Length != 16)
        {
            MappingThrowHelper.ThrowBadAddressLength(address.Length);
        }

        return new MappingKey(
            MemoryMarshal.Read<ulong>(address),
            MemoryMarshal.Read<ulong>(address[8..]),
            tenant | ((uint)IPv6 << 16));
    }

    /// <summary>The address as an <see cref="IPAddress"/> (allocates; for the control plane and tests).</summary>
    public IPAddress ToAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        MemoryMarshal.Write(bytes, in Unsafe.AsRef(in Low));
        MemoryMarshal.Write(bytes[8..], in Unsafe.AsRef(in High));
        return new IPAddress(Family == IPv4 ? bytes[..4] : bytes);
    }

    /// <summary>Writes the 4 or 16 address bytes (network order) to <paramref name="destination"/>; returns how many.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe int WriteAddress(byte* destination)
    {
        if (Family == IPv4)
        {
            Unsafe.WriteUnaligned(destination, (uint)Low);
            return 4;
        }

        Unsafe.WriteUnaligned(destination, Low);
        Unsafe.WriteUnaligned(destination + 8, High);
        return 16;
    }

    /// <inheritdoc/>
    public bool Equals(MappingKey other) => Low == other.Low && High == other.High && Meta == other.Meta;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is MappingKey other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Low, High, Meta);

    /// <inheritdoc/>
    public override string ToString() => Family == 0 ? "(none)" : $"{Tenant}/{ToAddress()}";

    /// <summary>Whether two keys are equal.</summary>
    public static bool operator ==(MappingKey left, MappingKey right) => left.Equals(right);

    /// <summary>Whether two keys differ.</summary>
    public static bool operator !=(MappingKey left, MappingKey right) => !left.Equals(right);

    private static MappingKey FromAddress(ushort tenant, IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out int written) ||
            (address.AddressFamily != AddressFamily.InterNetwork && address.AddressFamily != AddressFamily.InterNetworkV6))
        {
            MappingThrowHelper.ThrowBadAddressLength(written);
        }

        return FromBytes(tenant, bytes[..written]);
    }
}
