using System.Globalization;

namespace FastPath.Testing;

/// <summary>
/// A throw-away network lab: namespaces and veth pairs that the test creates and removes, with
/// names unique to this lab (several test runs may share the machine). Addresses come from the
/// benchmark ranges 198.18.0.0/15 and 2001:db8::/32 only.
/// </summary>
/// <remarks>Not thread-safe: one test builds and disposes one lab.</remarks>
public sealed class NetnsLab : IDisposable
{
    private readonly List<string> _namespaces = [];
    private readonly List<string> _rootLinks = [];

    private NetnsLab(string suffix) => Suffix = suffix;

    /// <summary>Six hex digits that make this lab's names unique (interface names stay within 15 characters).</summary>
    public string Suffix { get; }

    /// <summary>
    /// Creates an empty lab, or says why the machine does not allow one (not root, no netns support):
    /// the only case in which network tests may be skipped.
    /// </summary>
    public static NetnsLab? TryCreate(out string whyNot)
    {
        string suffix = Random.Shared.Next(0x100000, 0xFFFFFF).ToString("x6", CultureInfo.InvariantCulture);
        string probe = "fpprobe" + suffix;
        ProcessResult result = ProcessRunner.Run("ip", "netns", "add", probe);
        if (result.ExitCode != 0)
        {
            whyNot = $"network namespaces are not available here ({result.StandardError.Trim()})";
            return null;
        }

        ProcessRunner.Run("ip", "netns", "del", probe);
        whyNot = string.Empty;
        return new NetnsLab(suffix);
    }

    /// <summary>Creates a lab or skips the calling test with the reason.</summary>
    public static NetnsLab CreateOrSkip()
    {
        NetnsLab? lab = TryCreate(out string whyNot);
        if (lab is null)
        {
            Assert.Skip(whyNot);
        }

        return lab!;
    }

    /// <summary>Adds namespace <c>{name}-{suffix}</c> with loopback up; returns its full name.</summary>
    public string AddNamespace(string name)
    {
        string full = $"{name}-{Suffix}";
        Ip("netns", "add", full);
        _namespaces.Add(full);
        Ip("-n", full, "link", "set", "lo", "up");
        return full;
    }

    /// <summary>
    /// Adds a veth pair; a null namespace means the root namespace (where the data plane under test runs).
    /// Both ends come up. Returns the two interface names, suffixed.
    /// </summary>
    public (string A, string B) AddVeth(string nameA, string? namespaceA, string nameB, string? namespaceB)
    {
        string a = nameA + Suffix;
        string b = nameB + Suffix;
        if (a.Length > 15 || b.Length > 15)
        {
            throw new ArgumentException($"interface names '{a}', '{b}' exceed 15 characters");
        }

        var args = new List<string> { "link", "add", a };
        if (namespaceA is not null)
        {
            args.AddRange(["netns", namespaceA]);
        }

        args.AddRange(["type", "veth", "peer", "name", b]);
        if (namespaceB is not null)
        {
            args.AddRange(["netns", namespaceB]);
        }

        Ip([.. args]);
        if (namespaceA is null)
        {
            _rootLinks.Add(a);
        }
        else if (namespaceB is null)
        {
            _rootLinks.Add(b);
        }

        SetUp(a, namespaceA);
        SetUp(b, namespaceB);
        return (a, b);
    }

    /// <summary>Brings a link up and switches off IPv6 DAD and router solicitations that would add stray packets.</summary>
    public void SetUp(string link, string? ns)
    {
        if (ns is null)
        {
            Sysctl(null, $"net.ipv6.conf.{link}.accept_dad=0");
            Ip("link", "set", link, "up");
        }
        else
        {
            Sysctl(ns, $"net.ipv6.conf.{link}.accept_dad=0");
            Sysctl(ns, $"net.ipv6.conf.{link}.router_solicitations=0");
            Ip("-n", ns, "link", "set", link, "up");
        }
    }

    /// <summary><c>ip -n NS addr add ADDRESS dev LINK</c> (ADDRESS with prefix length, e.g. 198.18.0.1/24).</summary>
    public void AddAddress(string ns, string link, string address) =>
        Ip("-n", ns, "addr", "add", address, "dev", link, "nodad");

    /// <summary>A permanent neighbour entry, so no ARP/ND is needed.</summary>
    public void AddNeighbour(string ns, string link, string address, string mac) =>
        Ip("-n", ns, "neigh", "replace", address, "lladdr", mac, "dev", link, "nud", "permanent");

    /// <summary><c>ip -n NS route add PREFIX via GATEWAY dev LINK</c>, or directly on the link when gateway is null.</summary>
    public void AddRoute(string ns, string prefix, string link, string? gateway = null)
    {
        if (gateway is null)
        {
            Ip("-n", ns, "route", "add", prefix, "dev", link);
        }
        else
        {
            Ip("-n", ns, "route", "add", prefix, "via", gateway, "dev", link);
        }
    }

    /// <summary>Sets a link's MAC address.</summary>
    public void SetMac(string? ns, string link, string mac)
    {
        if (ns is null)
        {
            Ip("link", "set", link, "address", mac);
        }
        else
        {
            Ip("-n", ns, "link", "set", link, "address", mac);
        }
    }

    /// <summary>The link's MAC address.</summary>
    public string Mac(string? ns, string link)
    {
        string path = $"/sys/class/net/{link}/address";
        return ns is null
            ? File.ReadAllText(path).Trim()
            : Exec(ns, "cat", path).StandardOutput.Trim();
    }

    /// <summary>Runs a command inside a namespace (checked).</summary>
    public ProcessResult Exec(string ns, params string[] command) =>
        ProcessRunner.Run("ip", ["netns", "exec", ns, .. command]).EnsureSuccess();

    /// <summary>Runs a command inside a namespace with a time bound, unchecked.</summary>
    public ProcessResult TryExec(string ns, TimeSpan timeout, params string[] command) =>
        ProcessRunner.Run("ip", ["netns", "exec", ns, .. command], timeout);

    public void Dispose()
    {
        foreach (string link in _rootLinks)
        {
            ProcessRunner.Run("ip", "link", "del", link); // Deleting one end removes the pair.
        }

        foreach (string ns in _namespaces)
        {
            ProcessRunner.Run("ip", "netns", "del", ns);
        }
    }

    private static void Sysctl(string? ns, string setting)
    {
        // Best effort: the key may not exist for a link without IPv6.
        if (ns is null)
        {
            ProcessRunner.Run("sysctl", "-qw", setting);
        }
        else
        {
            ProcessRunner.Run("ip", "netns", "exec", ns, "sysctl", "-qw", setting);
        }
    }

    private static void Ip(params string[] args) => ProcessRunner.Run("ip", args).EnsureSuccess();
}
