using System.Net;

namespace FastPath.Control.Maps;

/// <summary>One mapping as written in a maps file or sent to the daemon: (tenant, user address) ↔ secure address.</summary>
/// <param name="Tenant">802.1Q VLAN ID 1-4094 of the user side, or 0 for untagged.</param>
/// <param name="User">User-environment address.</param>
/// <param name="Secure">Secure-environment address, same family as <paramref name="User"/>.</param>
public sealed record MapEntry(int Tenant, IPAddress User, IPAddress Secure);
