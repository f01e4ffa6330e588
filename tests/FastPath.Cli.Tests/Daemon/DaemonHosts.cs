using FastPath.Testing;

namespace FastPath.Cli.Tests.Daemon;

/// <summary>
/// The kernel topology the daemon tests put a <c>fastpath run</c> between: a user host and a secure host, each in its
/// own namespace on a veth whose other end stays in the root namespace for the daemon's AF_PACKET port; IPv6 off on
/// every end (nothing but test traffic on the wires), addresses, the hosts' neighbour entries for the daemon's port
/// MACs, and the user host's route to the secure side through the daemon.
/// </summary>
/// <param name="User">The user host's namespace.</param>
/// <param name="UserLink">Its veth end.</param>
/// <param name="UserRoot">The root end the daemon's user port opens.</param>
/// <param name="Secure">The secure host's namespace.</param>
/// <param name="SecureLink">Its veth end.</param>
/// <param name="SecureRoot">The root end the daemon's secure port opens.</param>
internal sealed record DaemonHosts(string User, string UserLink, string UserRoot, string Secure, string SecureLink, string SecureRoot)
{
    public const string UserV4 = "198.18.1.5";
    public const string SecureOfUserV4 = "198.19.1.5";
    public const string SecureHostV4 = "198.19.0.1";
    public const string UserPortMac = "02:00:fa:57:01:01";
    public const string SecurePortMac = "02:00:fa:57:02:01";

    /// <summary>Creates both hosts in <paramref name="lab"/>; <paramref name="tag"/> keeps the names of several labs apart.</summary>
    public static DaemonHosts Create(NetnsLab lab, string userNamespace, string secureNamespace, string tag)
    {
        string user = lab.AddNamespace(userNamespace);
        string secure = lab.AddNamespace(secureNamespace);
        (string userRoot, string userLink) = lab.AddVeth($"{tag}du", null, $"{tag}hu", user);
        (string secureRoot, string secureLink) = lab.AddVeth($"{tag}ds", null, $"{tag}hs", secure);
        ProcessRunner.Run("sysctl", "-qw", $"net.ipv6.conf.{userRoot}.disable_ipv6=1").EnsureSuccess();
        ProcessRunner.Run("sysctl", "-qw", $"net.ipv6.conf.{secureRoot}.disable_ipv6=1").EnsureSuccess();
        lab.Exec(user, "sysctl", "-qw", $"net.ipv6.conf.{userLink}.disable_ipv6=1");
        lab.Exec(secure, "sysctl", "-qw", $"net.ipv6.conf.{secureLink}.disable_ipv6=1");
        lab.AddAddress(user, userLink, UserV4 + "/24");
        lab.AddNeighbour(user, userLink, "198.18.1.1", UserPortMac);
        lab.AddRoute(user, "198.19.0.0/16", userLink, "198.18.1.1");
        lab.AddAddress(secure, secureLink, SecureHostV4 + "/16");
        lab.AddNeighbour(secure, secureLink, SecureOfUserV4, SecurePortMac);
        return new DaemonHosts(user, userLink, userRoot, secure, secureLink, secureRoot);
    }
}
