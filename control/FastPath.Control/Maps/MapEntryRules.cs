using System.Net;
using System.Net.Sockets;

namespace FastPath.Control.Maps;

/// <summary>
/// The checks every mapping passes wherever it comes from (maps file, <c>map add</c>, import), so
/// the file loader and the control socket give the same answers.
/// </summary>
public static class MapEntryRules
{
    /// <summary>Returns null when <paramref name="tenant"/> is valid, else why not.</summary>
    public static string? CheckTenant(long tenant) =>
        tenant is < 0 or > Dataplane.Tenant.Max ? $"tenant {tenant} out of range (0 for untagged, 1-{Dataplane.Tenant.Max} for a VLAN ID)" : null;

    /// <summary>Parses an address the way a mapping needs it, or says why it cannot be one.</summary>
    public static bool TryParseAddress(string? text, out IPAddress address, out string error) =>
        TryParseAddress(text.AsSpan(), out address, out error);

    /// <summary>
    /// Parses an address the way a mapping needs it, or says why it cannot be one. Allocates only the address
    /// (and the message when it fails), so a million-entry maps file leaves no garbage that outlives its entry.
    /// </summary>
    public static bool TryParseAddress(ReadOnlySpan<char> text, out IPAddress address, out string error)
    {
        address = IPAddress.None;
        if (!Config.IpAddressText.TryParse(text, out IPAddress parsed))
        {
            // Canonical text only: "010.1.1.1" (octal), "0x0a.0.0.1", "10.1" and scoped IPv6 are refused.
            error = text.Count('.') == 3 && IPAddress.TryParse(text, out _)
                ? $"not an IP address in canonical form ('{text}'; IPv4 is four decimal numbers 0-255 without leading zeros or hex)"
                : $"not an IP address ('{text}')";
            return false;
        }

        if (parsed.IsIPv4MappedToIPv6)
        {
            error = $"IPv4-mapped IPv6 address '{text}' is ambiguous; write the IPv4 address";
            return false;
        }

        if (parsed.Equals(IPAddress.Any) || parsed.Equals(IPAddress.IPv6Any))
        {
            error = $"unspecified address '{text}' cannot be mapped";
            return false;
        }

        if (IsMulticastOrBroadcast(parsed))
        {
            error = $"multicast or broadcast address '{text}' cannot be mapped";
            return false;
        }

        address = parsed;
        error = string.Empty;
        return true;
    }

    /// <summary>Returns null when the two addresses are the same family, else why not.</summary>
    public static string? CheckFamilies(IPAddress user, IPAddress secure) =>
        user.AddressFamily == secure.AddressFamily
            ? null
            : $"family mismatch: user {user} is {Family(user)} but secure {secure} is {Family(secure)}";

    /// <summary><c>IPv4</c> or <c>IPv6</c>.</summary>
    public static string Family(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork ? "IPv4" : "IPv6";

    private static bool IsMulticastOrBroadcast(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address.IsIPv6Multicast;
        }

        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return bytes[0] >= 224 || address.Equals(IPAddress.Broadcast);
    }
}
