using System.Net;
using FastPath.Dataplane.Ports;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Ports;

public sealed class UdpFrameBuilderTests
{
    private static readonly byte[] SourceMac = [0x02, 0x00, 0x00, 0x00, 0x01, 0x01];
    private static readonly byte[] DestinationMac = [0x02, 0x00, 0x00, 0x00, 0x01, 0x02];

    public static TheoryData<string, string, int, int> Cases => new()
    {
        { "198.18.0.1", "198.19.255.254", 0, 18 },
        { "198.18.0.1", "198.19.255.254", 0, 0 },
        { "198.18.0.7", "198.18.0.9", 100, 1 },
        { "198.18.0.7", "198.18.0.9", 4094, 1451 },
        { "2001:db8::1", "2001:db8:ffff::2", 0, 4 },
        { "2001:db8::1", "2001:db8:ffff::2", 7, 1433 },
        { "2001:db8:0:ffff:ffff:ffff:ffff:ffff", "2001:db8::2", 0, 255 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Frames_equal_what_scapy_builds_with_the_same_fields(string source, string destination, int vlan, int payload)
    {
        byte[] frame = Build(source, destination, vlan, 40000, payload);

        string ip = source.Contains(':', StringComparison.Ordinal)
            ? $"IPv6(src='{source}', dst='{destination}', hlim=64)"
            : $"IP(src='{source}', dst='{destination}', id=0, flags='DF', ttl=64)";
        string tag = vlan == 0 ? string.Empty : $"/Dot1Q(vlan={vlan})";
        string expected = Scapy.Run(
            $"f = Ether(src='02:00:00:00:01:01', dst='02:00:00:00:01:02'){tag}/{ip}/UDP(sport=40000, dport=9)/Raw(bytes(i % 256 for i in range({payload})))\n" +
            "print(bytes(f).hex())").Trim();

        Assert.Equal(expected, Convert.ToHexString(frame).ToLowerInvariant());
    }

    [Theory]
    [InlineData("198.18.0.1", "198.19.0.1", 0, 18)]
    [InlineData("198.18.0.1", "198.19.0.1", 9, 19)]
    [InlineData("2001:db8::1", "2001:db8::2", 0, 18)]
    [InlineData("2001:db8::1", "2001:db8::2", 4094, 101)]
    public void Restamping_the_source_gives_the_same_bytes_as_building_afresh(string source, string destination, int vlan, int payload)
    {
        var random = new Random(6);
        byte[] frame = Build(source, destination, vlan, 1024, payload);
        int addressLength = IPAddress.Parse(source).GetAddressBytes().Length;
        for (int i = 0; i < 2000; i++)
        {
            byte[] address = new byte[addressLength];
            random.NextBytes(address);
            if (i % 7 == 0)
            {
                Array.Fill(address, (byte)0xFF); // Sums that wrap the one's complement arithmetic.
            }

            ushort port = (ushort)random.Next(0, 65536);
            UdpFrameBuilder.RewriteSource(frame, address, port);

            byte[] fresh = new byte[frame.Length];
            UdpFrameBuilder.Write(fresh, SourceMac, DestinationMac, (ushort)vlan, address, IPAddress.Parse(destination).GetAddressBytes(), port, 9, payload);
            Assert.Equal(Convert.ToHexString(fresh), Convert.ToHexString(frame));
        }
    }

    [Fact]
    public void Mixed_families_and_out_of_range_vlans_are_refused()
    {
        byte[] frame = new byte[128];
        Assert.Throws<ArgumentException>(() => UdpFrameBuilder.Write(frame, SourceMac, DestinationMac, 0, new byte[4], new byte[16], 1, 2, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => UdpFrameBuilder.Write(frame, SourceMac, DestinationMac, 4095, new byte[4], new byte[4], 1, 2, 0));
    }

    private static byte[] Build(string source, string destination, int vlan, ushort sourcePort, int payload)
    {
        byte[] src = IPAddress.Parse(source).GetAddressBytes();
        byte[] dst = IPAddress.Parse(destination).GetAddressBytes();
        byte[] frame = new byte[UdpFrameBuilder.FrameLength(src.Length == 16, vlan != 0, payload)];
        int length = UdpFrameBuilder.Write(frame, SourceMac, DestinationMac, (ushort)vlan, src, dst, sourcePort, 9, payload);
        Assert.Equal(frame.Length, length);
        return frame;
    }
}
