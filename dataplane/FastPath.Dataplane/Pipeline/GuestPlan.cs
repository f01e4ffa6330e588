using System.Net;

namespace FastPath.Dataplane.Pipeline;

/// <summary>How to open one guest port: a user-side port whose far end is a guest process on a Unix socket.</summary>
/// <param name="Name">Port name, as in the configuration and the counters.</param>
/// <param name="SocketPath">Unix socket the guest connects to (created by the port; an existing socket file is replaced).</param>
/// <param name="Tenant">The guest's tenant: its user-side VLAN ID, 0 for untagged.</param>
/// <param name="Address">The guest's user-side address: secure→user packets translated to (tenant, address) go to the guest,
/// and it is the source of everything the guest sends.</param>
/// <param name="MaxHeldFrames">Frames the guest gets: the most it may hold at once, and the size of its own payload memory.</param>
/// <remarks>Immutable.</remarks>
public sealed record GuestPlan(string Name, string SocketPath, ushort Tenant, IPAddress Address, int MaxHeldFrames)
{
    /// <summary>Frames a guest gets unless configured otherwise.</summary>
    public const int DefaultMaxHeldFrames = Guest.GuestLayout.DefaultMaxHeldFrames;

    /// <summary>
    /// Null when a guest port may listen at <paramref name="path"/>, otherwise why not: too long for a Unix socket, or
    /// (with <paramref name="onHost"/>, which looks at the file system) something other than a socket an earlier run
    /// left is there — the port replaces such a socket, anything else is someone's file and is never deleted.
    /// </summary>
    public static string? CheckSocketPath(string path, bool onHost) => Guest.GuestSocket.ListenPathProblem(path, onHost);
}
