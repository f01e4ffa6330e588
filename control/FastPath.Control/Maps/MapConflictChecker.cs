using System.Net;

namespace FastPath.Control.Maps;

/// <summary>
/// Enforces the 1:1 rule over a set of entries being assembled: a (tenant, user) key and a secure
/// address each appear once. The conflict message names both entries.
/// </summary>
/// <remarks>Not thread-safe: one loader owns one checker.</remarks>
public sealed class MapConflictChecker
{
    private readonly Dictionary<(int Tenant, IPAddress User), string> _users = [];
    private readonly Dictionary<IPAddress, string> _secures = [];

    /// <summary>Records <paramref name="entry"/> under the name <paramref name="at"/>; returns null, or the conflict.</summary>
    public string? TryAdd(MapEntry entry, string at)
    {
        if (_users.TryGetValue((entry.Tenant, entry.User), out string? first))
        {
            return $"duplicate user key (tenant {entry.Tenant}, {entry.User}): also {first}";
        }

        if (_secures.TryGetValue(entry.Secure, out string? other))
        {
            return $"duplicate secure address {entry.Secure}: also {other}";
        }

        _users.Add((entry.Tenant, entry.User), at);
        _secures.Add(entry.Secure, at);
        return null;
    }
}
