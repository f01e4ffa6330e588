using System.Net;

namespace FastPath.Dataplane.Pipeline;

/// <summary>How to open one guest port: a user-side port whose far end is a guest process on a Unix socket.</summary>
/// <param name="Name">Port name, as in the configuration and the counters.</param>
/// <param name="SocketPath">Unix socket the guest connects to (created by the port; an existing socket file is replaced).</param>
/// <param name="Tenant">The guest's tenant: its user-side VLAN ID, 0 for untagged.</param>
/// <param name="Address">The guest's user-side address: secure→user packets translated to (tenant, address) go to the guest,
/// and it is the source of everything the guest sends.</param>
/// <param name="MaxHeldFrames">Most frames the guest may hold at once; the pipeline adds this many frames to its pool.</param>
/// <remarks>Immutable.</remarks>
public sealed record GuestPlan(string Name, string SocketPath, ushort Tenant, IPAddress Address, int MaxHeldFrames)
{
    /// <summary>Frames a guest may hold unless configured otherwise: four RX rings' worth.</summary>
    public const int DefaultMaxHeldFrames = 4 * (int)Guest.GuestLayout.RingCapacity;

    /// <summary>
    /// Null when a guest port may listen at <paramref name="path"/>: nothing there, or a socket an earlier run left
    /// (the port replaces it); otherwise why not. Anything else at the path is someone's file and is never deleted.
    /// </summary>
    public static string? CheckSocketPath(string path) =>
        !Path.Exists(path) || Guest.GuestSocket.IsSocket(path) ? null : $"'{path}' exists and is not a socket (it would not be replaced)";
}
