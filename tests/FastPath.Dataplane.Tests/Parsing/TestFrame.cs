using System.Buffers.Binary;
using FastPath.Dataplane.Parsing;

namespace FastPath.Dataplane.Tests.Parsing;

/// <summary>
/// Describes one frame layer by layer and builds its bytes with a valid IPv4 header checksum; the layers the
/// parser checks are exact, the transport checksums are left arbitrary because the parser does not verify them.
/// </summary>
/// <remarks>Not thread-safe: a mutable description, copied with <c>with</c>.</remarks>
internal sealed record TestFrame
{
    public TagMode Tag { get; init; }

    public ushort VlanId { get; init; } = 100;

    /// <summary>4, 6, or 0 for ARP.</summary>
    public int IpVersion { get; init; } = 4;

    /// <summary>IPv4 option bytes (multiple of 4, at most 40).</summary>
    public int Ipv4Options { get; init; }

    public FragmentState Fragment { get; init; }

    /// <summary>IPv6 extension headers in order (0, 43, 60; 44 is added from <see cref="Fragment"/>).</summary>
    public byte[] Extensions { get; init; } = [];

    public byte Protocol { get; init; } = HeaderParser.ProtocolUdp;

    /// <summary>TCP option bytes (multiple of 4, at most 40).</summary>
    public int TcpOptions { get; init; }

    public int Payload { get; init; } = 18;

    /// <summary>Ethernet padding after the IP packet.</summary>
    public int Padding { get; init; }

    public ushort SourcePort { get; init; } = 40000;

    public ushort DestinationPort { get; init; } = 53;

    public ushort UdpChecksum { get; init; } = 0xBEEF;

    public int L3Offset => Tag switch
    {
        TagMode.None => 14,
        TagMode.Vlan => 18,
        _ => 22,
    };

    public int Ipv4HeaderLength => 20 + Ipv4Options;

    public int Ipv6ExtensionLength => 8 * (Extensions.Length + (Fragment == FragmentState.None ? 0 : 1));

    public int L3HeaderLength => IpVersion == 4 ? Ipv4HeaderLength : 40 + Ipv6ExtensionLength;

    public int L4Offset => L3Offset + L3HeaderLength;

    public int TransportLength => Protocol switch
    {
        HeaderParser.ProtocolUdp => 8,
        HeaderParser.ProtocolTcp => 20 + TcpOptions,
        HeaderParser.ProtocolIcmp or HeaderParser.ProtocolIcmpv6 => 8,
        _ => 4,
    };

    public int PacketEnd => L4Offset + TransportLength + Payload;

    public byte[] Build()
    {
        var bytes = new List<byte>();
        bytes.AddRange([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]);
        switch (Tag)
        {
            case TagMode.Vlan:
                AddTag(bytes, 0x8100);
                break;
            case TagMode.QinQ:
                AddTag(bytes, 0x88A8);
                AddTag(bytes, 0x8100);
                break;
            case TagMode.DoubleVlan:
                AddTag(bytes, 0x8100);
                AddTag(bytes, 0x8100);
                break;
        }

        if (IpVersion == 0)
        {
            Add16(bytes, 0x0806);
            bytes.AddRange([0, 1, 8, 0, 6, 4, 0, 1]);
            bytes.AddRange(new byte[20]);
            return bytes.ToArray();
        }

        Add16(bytes, IpVersion == 4 ? HeaderParser.EtherTypeIpv4 : HeaderParser.EtherTypeIpv6);
        int l3 = bytes.Count;
        int ipPayload = TransportLength + Payload;
        if (IpVersion == 4)
        {
            bytes.Add((byte)(0x40 | (Ipv4HeaderLength / 4)));
            bytes.Add(0);
            Add16(bytes, (ushort)(Ipv4HeaderLength + ipPayload));
            Add16(bytes, 0x1234);
            Add16(bytes, Fragment switch
            {
                FragmentState.First => 0x2000,
                FragmentState.NonFirst => 0x2000 | 185,
                _ => 0x4000,
            });
            bytes.Add(64);
            bytes.Add(Protocol);
            Add16(bytes, 0);
            bytes.AddRange([198, 18, 0, 1, 198, 19, 0, 2]);
            for (int i = 0; i < Ipv4Options; i++)
            {
                bytes.Add(i == Ipv4Options - 1 ? (byte)0 : (byte)1); // NOPs, then end of options.
            }

            byte[] header = bytes.GetRange(l3, Ipv4HeaderLength).ToArray();
            ushort checksum = Ipv4Checksum(header);
            bytes[l3 + 10] = (byte)(checksum >> 8);
            bytes[l3 + 11] = (byte)checksum;
        }
        else
        {
            var chain = new List<byte>(Extensions);
            if (Fragment != FragmentState.None)
            {
                chain.Add(44);
            }

            bytes.AddRange([0x60, 0, 0, 0]);
            Add16(bytes, (ushort)(Ipv6ExtensionLength + ipPayload));
            bytes.Add(chain.Count > 0 ? chain[0] : Protocol);
            bytes.Add(64);
            bytes.AddRange([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
            bytes.AddRange([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
            for (int i = 0; i < chain.Count; i++)
            {
                byte next = i + 1 < chain.Count ? chain[i + 1] : Protocol;
                if (chain[i] == 44)
                {
                    bytes.AddRange([next, 0]);
                    Add16(bytes, Fragment == FragmentState.First ? (ushort)1 : (ushort)((185 << 3) | 1));
                    bytes.AddRange([0, 0, 0x12, 0x34]);
                }
                else
                {
                    bytes.AddRange([next, 0, 1, 4, 0, 0, 0, 0]); // PadN filling the 8 bytes.
                }
            }
        }

        switch (Protocol)
        {
            case HeaderParser.ProtocolUdp:
                Add16(bytes, SourcePort);
                Add16(bytes, DestinationPort);
                Add16(bytes, (ushort)(8 + Payload));
                Add16(bytes, UdpChecksum);
                break;
            case HeaderParser.ProtocolTcp:
                Add16(bytes, SourcePort);
                Add16(bytes, DestinationPort);
                bytes.AddRange([0, 0, 0, 1, 0, 0, 0, 0]);
                bytes.Add((byte)((5 + (TcpOptions / 4)) << 4));
                bytes.AddRange([0x18, 0xFF, 0xFF, 0x12, 0x34, 0, 0]);
                for (int i = 0; i < TcpOptions; i++)
                {
                    bytes.Add(1);
                }

                break;
            case HeaderParser.ProtocolIcmp or HeaderParser.ProtocolIcmpv6:
                bytes.AddRange([8, 0, 0x12, 0x34, 0, 1, 0, 1]);
                break;
            default:
                bytes.AddRange([0, 0, 0x08, 0x00]);
                break;
        }

        for (int i = 0; i < Payload; i++)
        {
            bytes.Add((byte)(0xA0 + i));
        }

        bytes.AddRange(new byte[Padding]);
        return bytes.ToArray();
    }

    public static ushort Ipv4Checksum(ReadOnlySpan<byte> header)
    {
        uint sum = 0;
        for (int i = 0; i < header.Length; i += 2)
        {
            if (i != 10)
            {
                sum += BinaryPrimitives.ReadUInt16BigEndian(header[i..]);
            }
        }

        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }

        return (ushort)~sum;
    }

    private void AddTag(List<byte> bytes, ushort tpid)
    {
        Add16(bytes, tpid);
        Add16(bytes, (ushort)(0x2000 | VlanId));
    }

    private static void Add16(List<byte> bytes, ushort value)
    {
        bytes.Add((byte)(value >> 8));
        bytes.Add((byte)value);
    }
}
