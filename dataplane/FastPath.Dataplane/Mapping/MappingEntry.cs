using System.Net;

namespace FastPath.Dataplane.Mapping;

/// <summary>One mapping as the writer adds it: (tenant, user address) ↔ secure address.</summary>
/// <remarks>Immutable value; safe to share.</remarks>
/// <param name="User">User-side key: tenant and user address.</param>
/// <param name="Secure">Secure-side key: address only (tenant 0), same family as <paramref name="User"/>.</param>
public readonly record struct MappingEntry(MappingKey User, MappingKey Secure)
{
    /// <summary>A mapping from managed addresses, validated like <see cref="MappingKey.User"/>.</summary>
    /// <exception cref="ArgumentException">Bad tenant, address, or the families differ.</exception>
    public static MappingEntry Create(int tenant, IPAddress user, IPAddress secure)
    {
        var entry = new MappingEntry(MappingKey.User(tenant, user), MappingKey.Secure(secure));
        entry.Validate();
        return entry;
    }

    /// <summary>Throws unless both keys are set, of the same family, and the tenant is in range.</summary>
    internal void Validate()
    {
        if (User.Family is not (MappingKey.IPv4 or MappingKey.IPv6) || (User.Meta >> 24) != 0 || (Secure.Meta >> 24) != 0)
        {
            MappingThrowHelper.ThrowBadEntry($"entry {this} has no valid user key");
        }

        if (User.Family != Secure.Family)
        {
            MappingThrowHelper.ThrowFamilyMismatch(User, Secure);
        }

        if (User.Tenant > MappingKey.MaxTenant)
        {
            MappingThrowHelper.ThrowBadEntry($"tenant {User.Tenant} is outside 0-{MappingKey.MaxTenant}");
        }

        if (Secure.Tenant != 0)
        {
            MappingThrowHelper.ThrowBadEntry($"secure key {Secure} carries a tenant; secure addresses are unique across tenants");
        }

        if (User.Family == MappingKey.IPv4 && ((User.Low >> 32) != 0 || User.High != 0 || (Secure.Low >> 32) != 0 || Secure.High != 0))
        {
            MappingThrowHelper.ThrowBadEntry($"IPv4 entry {this} has bytes beyond its 4 address bytes");
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"{User} <-> {Secure.ToAddress()}";
}
