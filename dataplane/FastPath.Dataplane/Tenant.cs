namespace FastPath.Dataplane;

/// <summary>
/// The tenant of a user-side packet is its 802.1Q VLAN ID, 0 for untagged frames. Declared once here, at the root,
/// because parsing, mapping, ports, guests and the control plane all bound it and the folders only depend downwards.
/// </summary>
/// <remarks>Constants only; safe from any thread.</remarks>
public static class Tenant
{
    /// <summary>Highest tenant: VLAN IDs run 1–4094 (IEEE 802.1Q reserves 4095, and 0 means "no VLAN").</summary>
    public const ushort Max = 4094;
}
