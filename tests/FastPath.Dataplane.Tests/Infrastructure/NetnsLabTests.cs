using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Infrastructure;

public sealed class NetnsLabTests
{
    [Fact]
    public void Two_lab_namespaces_reach_each_other_and_vanish_on_dispose()
    {
        string a, b;
        using (NetnsLab lab = NetnsLab.CreateOrSkip())
        {
            a = lab.AddNamespace("fpa");
            b = lab.AddNamespace("fpb");
            (string va, string vb) = lab.AddVeth("fpa", a, "fpb", b);
            lab.AddAddress(a, va, "198.18.7.1/24");
            lab.AddAddress(b, vb, "198.18.7.2/24");
            lab.AddAddress(a, va, "2001:db8:7::1/64");
            lab.AddAddress(b, vb, "2001:db8:7::2/64");
            lab.AddNeighbour(a, va, "198.18.7.2", lab.Mac(b, vb));
            lab.AddNeighbour(a, va, "2001:db8:7::2", lab.Mac(b, vb));

            lab.Exec(a, "ping", "-c", "1", "-W", "2", "198.18.7.2");
            lab.Exec(a, "ping", "-6", "-c", "1", "-W", "2", "2001:db8:7::2");
        }

        string namespaces = ProcessRunner.Run("ip", "netns", "list").StandardOutput;
        Assert.DoesNotContain(a, namespaces);
        Assert.DoesNotContain(b, namespaces);
    }
}
