using System.Net;
using FastPath.Dataplane.Guest;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Rewrite;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Pipeline;

/// <summary>
/// Two hosts in their own namespaces with real kernel stacks, joined only through FastPath:
/// <c>user-host</c> (tenant 0, untagged: 198.18.1.5, 2001:db8:1::5 — this machine's kernel has no 802.1Q support,
/// so tagged traffic comes from scapy at L2 instead, for tenant 100's 198.18.1.7) and <c>secure-host</c>
/// (198.19.0.1, 2001:db8:2::1). The user host reaches the secure side through gateway .1 / ::1 whose static
/// neighbour entry is the user port's MAC; the secure host answers the translated addresses 198.19.1.5 /
/// 2001:db8:2::5 through a static neighbour entry for the secure port's MAC. One worker runs both directions.
/// </summary>
internal sealed class TranslationLab : IDisposable
{
    public const string UserV4 = "198.18.1.5";
    public const string UserV6 = "2001:db8:1::5";
    public const string SecureOfUserV4 = "198.19.1.5";
    public const string SecureOfUserV6 = "2001:db8:2::5";
    public const string TaggedUserV4 = "198.18.1.7";
    public const string SecureOfTaggedUserV4 = "198.19.1.7";
    public const string SecureHostV4 = "198.19.0.1";
    public const string SecureHostV6 = "2001:db8:2::1";
    public const string GuestUserV4 = "198.18.1.9";
    public const string SecureOfGuestV4 = "198.19.1.9";
    public const string UserPortMac = "02:00:fa:57:01:01";
    public const string SecurePortMac = "02:00:fa:57:02:01";

    private readonly List<IDisposable> _owned = [];
    private readonly Worker _worker;
    private readonly MappingTable _table;

    private TranslationLab(NetnsLab lab, bool tapOnUserSide, string? guestSocket, WorkerIdle idle)
    {
        Lab = lab;
        UserHost = lab.AddNamespace("fpuser");
        SecureHost = lab.AddNamespace("fpsec");

        PacketPort userPort;
        if (tapOnUserSide)
        {
            // The TAP device is created in the root namespace (where FastPath runs) and then moved into the user host;
            // the port's file descriptor keeps working across the move.
            UserLink = "fptap" + lab.Suffix;
            var tap = new TapPort("u0", UserLink);
            _owned.Add(tap);
            ProcessRunner.Run("ip", "link", "set", UserLink, "netns", UserHost).EnsureSuccess();
            lab.SetUp(UserLink, UserHost);
            userPort = tap;
        }
        else
        {
            (string root, string peer) = lab.AddVeth("fpdu", null, "fphu", UserHost);
            UserLink = peer;
            var port = new AfPacketPort("u0", root);
            _owned.Add(port);
            userPort = port;
        }

        (string secureRoot, string securePeer) = lab.AddVeth("fpds", null, "fphs", SecureHost);
        SecureLink = securePeer;
        var securePort = new AfPacketPort("s0", secureRoot);
        _owned.Add(securePort);

        ConfigureHosts();
        userPort.SetMacs(Mac(UserPortMac), Mac(lab.Mac(UserHost, UserLink)));
        securePort.SetMacs(Mac(SecurePortMac), Mac(lab.Mac(SecureHost, SecureLink)));

        _table = new MappingTable();
        _table.Add(MappingEntry.Create(0, IPAddress.Parse(UserV4), IPAddress.Parse(SecureOfUserV4)));
        _table.Add(MappingEntry.Create(0, IPAddress.Parse(UserV6), IPAddress.Parse(SecureOfUserV6)));
        _table.Add(MappingEntry.Create(100, IPAddress.Parse(TaggedUserV4), IPAddress.Parse(SecureOfTaggedUserV4)));
        _table.Add(MappingEntry.Create(0, IPAddress.Parse(GuestUserV4), IPAddress.Parse(SecureOfGuestV4)));
        Counters = new Counters(1);
        var pool = new FramePool(512);
        var toSecure = new TranslationStage(_table, TranslationDirection.UserToSecure, EgressMacs.Create(securePort.Mac, securePort.PeerMac));
        List<PortBinding> bindings = [new PortBinding(userPort, toSecure, securePort)];
        if (guestSocket is not null)
        {
            // Guest 198.18.1.9 (tenant 0) is reached from the secure side as 198.19.1.9; what it sends leaves on the secure port.
            Guest = new GuestPort("g0", guestSocket, 0, IPAddress.Parse(GuestUserV4));
            _owned.Add(Guest);
            var toUserOrGuest = new TranslationStage(_table, TranslationDirection.SecureToUser, EgressMacs.Create(userPort.Mac, userPort.PeerMac),
                [MappingKey.User(0, IPAddress.Parse(GuestUserV4))]);
            bindings.Add(new PortBinding(securePort, toUserOrGuest, userPort, [Guest]));
            bindings.Add(new PortBinding(Guest, toSecure, securePort));
        }
        else
        {
            bindings.Add(new PortBinding(securePort, new TranslationStage(_table, TranslationDirection.SecureToUser, EgressMacs.Create(userPort.Mac, userPort.PeerMac)), userPort));
        }

        _owned.Add(pool);
        _worker = new Worker(0, -1, bindings, pool, Counters, idle: idle);
        _worker.Start();
    }

    public NetnsLab Lab { get; }

    public string UserHost { get; }

    public string SecureHost { get; }

    /// <summary>The user host's link (veth end or TAP).</summary>
    public string UserLink { get; }

    public string SecureLink { get; }

    public Counters Counters { get; }

    /// <summary>The guest port, when the lab was created with a guest socket.</summary>
    public GuestPort? Guest { get; }

    /// <summary>Whether the worker sleeps in poll(2) when idle.</summary>
    public bool WorkerSleeps => _worker.Sleeps;

    public static TranslationLab Create(bool tapOnUserSide = false, string? guestSocket = null, WorkerIdle idle = WorkerIdle.Spin)
    {
        NetnsLab lab = NetnsLab.CreateOrSkip();
        try
        {
            return new TranslationLab(lab, tapOnUserSide, guestSocket, idle);
        }
        catch (Exception)
        {
            lab.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _worker.Dispose();
        Counters.Dispose();
        foreach (IDisposable owned in _owned)
        {
            owned.Dispose();
        }

        _table.Dispose();
        Lab.Dispose();
    }

    private void ConfigureHosts()
    {
        NetnsLab lab = Lab;
        lab.AddAddress(UserHost, UserLink, UserV4 + "/24");
        lab.AddAddress(UserHost, UserLink, UserV6 + "/64");
        lab.AddNeighbour(UserHost, UserLink, "198.18.1.1", UserPortMac);
        lab.AddNeighbour(UserHost, UserLink, "2001:db8:1::1", UserPortMac);
        lab.AddRoute(UserHost, "198.19.0.0/16", UserLink, "198.18.1.1");
        lab.AddRoute(UserHost, "2001:db8:2::/48", UserLink, "2001:db8:1::1");

        lab.AddAddress(SecureHost, SecureLink, SecureHostV4 + "/16");
        lab.AddAddress(SecureHost, SecureLink, SecureHostV6 + "/48");
        lab.AddNeighbour(SecureHost, SecureLink, SecureOfUserV4, SecurePortMac);
        lab.AddNeighbour(SecureHost, SecureLink, SecureOfUserV6, SecurePortMac);
        lab.AddNeighbour(SecureHost, SecureLink, SecureOfTaggedUserV4, SecurePortMac);
        lab.AddNeighbour(SecureHost, SecureLink, SecureOfGuestV4, SecurePortMac);
    }

    private static byte[] Mac(string text) => Convert.FromHexString(text.Replace(":", string.Empty, StringComparison.Ordinal));
}
