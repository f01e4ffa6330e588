namespace FastPath.Dataplane.Rewrite;

/// <summary>The side a packet arrived on, which decides the lookup direction and the VLAN action.</summary>
public enum TranslationDirection : byte
{
    /// <summary>Arrived on the user side: look up (tenant, source), pop the VLAN tag.</summary>
    UserToSecure = 0,

    /// <summary>Arrived on the secure side: look up the destination in reverse, push the tenant's VLAN tag.</summary>
    SecureToUser = 1,
}
