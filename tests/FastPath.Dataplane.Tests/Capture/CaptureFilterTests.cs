using System.Buffers.Binary;
using System.Net;
using FastPath.Dataplane.Capture;

namespace FastPath.Dataplane.Tests.Capture;

/// <summary>The capture filter language on hand-built frames: each primitive, the operators and their precedence, errors.</summary>
public sealed class CaptureFilterTests
{
    private static readonly byte[] s_udp4 = Frame(tenant: 100, "198.18.1.5", "198.19.0.1", protocol: 17, sourcePort: 5353, destinationPort: 53);
    private static readonly byte[] s_tcp6 = Frame(tenant: null, "2001:db8::5", "2001:db8:1::9", protocol: 6, sourcePort: 40000, destinationPort: 443);
    private static readonly byte[] s_icmp4 = Frame(tenant: 7, "198.18.2.1", "198.18.2.2", protocol: 1, sourcePort: 0, destinationPort: 0);

    [Theory]
    [InlineData("", true, true, true)]
    [InlineData("tenant 100", true, false, false)]
    [InlineData("tenant 0", false, true, false)]
    [InlineData("udp", true, false, false)]
    [InlineData("tcp", false, true, false)]
    [InlineData("icmp", false, false, true)]
    [InlineData("port 53", true, false, false)]
    [InlineData("port 443", false, true, false)]
    [InlineData("host 198.19.0.1", true, false, false)]
    [InlineData("host 2001:db8:1::9", false, true, false)]
    [InlineData("net 198.18.0.0/16", true, false, true)]
    [InlineData("net 198.18.2.0/24", false, false, true)]
    [InlineData("net 2001:db8::/32", false, true, false)]
    [InlineData("net 2001:db8:1::/48", false, true, false)]
    [InlineData("net 2001:db8:2::/48", false, false, false)]
    [InlineData("tenant 100 and udp port 53", true, false, false)]
    [InlineData("not udp", false, true, true)]
    [InlineData("udp or tcp and port 443", true, true, false)]
    [InlineData("(udp or tcp) and port 443", false, true, false)]
    [InlineData("not (udp or tcp)", false, false, true)]
    [InlineData("not not icmp", false, false, true)]
    public void Each_term_and_operator_selects_the_frames_it_names(string filter, bool udp4, bool tcp6, bool icmp4)
    {
        CaptureFilter compiled = CaptureFilter.Parse(filter);
        Assert.Equal(udp4, compiled.Matches(s_udp4));
        Assert.Equal(tcp6, compiled.Matches(s_tcp6));
        Assert.Equal(icmp4, compiled.Matches(s_icmp4));
    }

    [Fact]
    public void Truncated_and_non_ip_frames_match_only_what_needs_no_ip_header()
    {
        CaptureFilter udp = CaptureFilter.Parse("udp");
        Assert.False(udp.Matches(s_udp4.AsSpan(0, 20)));
        Assert.False(udp.Matches([]));
        Assert.True(CaptureFilter.Parse("tenant 100").Matches(s_udp4.AsSpan(0, 20)));
        Assert.True(CaptureFilter.Parse("not udp").Matches(s_udp4.AsSpan(0, 30)));
    }

    [Theory]
    [InlineData("udp and", "filter: expected a term (tenant, host, net, udp, tcp, icmp, port, not, '(') at the end")]
    [InlineData("tenant 5000", "filter: 'tenant 5000': expected a number from 0 to 4095")]
    [InlineData("net 10.0.0.0/33", "filter: prefix /33 is longer than 32 for 10.0.0.0")]
    [InlineData("net 10.0.0.0", "filter: 'net 10.0.0.0': expected ADDRESS/LENGTH")]
    [InlineData("udp)", "filter: unexpected ')'")]
    [InlineData("ether host 1", "filter: unknown term 'ether' (expected tenant, host, net, udp, tcp, icmp, port, and, or, not, parentheses)")]
    public void Bad_filters_say_what_is_wrong(string filter, string message) =>
        Assert.Equal(message, Assert.Throws<FormatException>(() => CaptureFilter.Parse(filter)).Message);

    [Fact]
    public void Deep_nesting_is_refused_not_overflowed() =>
        Assert.Contains("nested too deeply", Assert.Throws<FormatException>(() => CaptureFilter.Parse(new string('(', 100) + "udp" + new string(')', 100))).Message, StringComparison.Ordinal);

    private static byte[] Frame(int? tenant, string source, string destination, byte protocol, ushort sourcePort, ushort destinationPort)
    {
        IPAddress from = IPAddress.Parse(source);
        IPAddress to = IPAddress.Parse(destination);
        bool v6 = from.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        var frame = new List<byte>(new byte[12]);
        if (tenant is int vid)
        {
            frame.AddRange([0x81, 0x00, (byte)(vid >> 8), (byte)vid]);
        }

        frame.AddRange(v6 ? [0x86, 0xDD] : [0x08, 0x00]);
        byte[] ip = new byte[v6 ? 40 : 20];
        if (v6)
        {
            ip[0] = 0x60;
            ip[6] = protocol;
            from.GetAddressBytes().CopyTo(ip, 8);
            to.GetAddressBytes().CopyTo(ip, 24);
        }
        else
        {
            ip[0] = 0x45;
            ip[9] = protocol;
            from.GetAddressBytes().CopyTo(ip, 12);
            to.GetAddressBytes().CopyTo(ip, 16);
        }

        frame.AddRange(ip);
        byte[] l4 = new byte[8];
        BinaryPrimitives.WriteUInt16BigEndian(l4, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(2), destinationPort);
        frame.AddRange(l4);
        return [.. frame];
    }
}
