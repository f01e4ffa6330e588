using System.Buffers.Binary;

namespace FastPath.Bench.Parsing;

/// <summary>Valid frames for the parser benchmark, with correct IPv4 header checksums.</summary>
/// <remarks>Thread-safe: stateless.</remarks>
internal static class BenchFrames
{
    public static byte[] Ipv4(bool vlan, bool udp, int length, ushort port)
    {
        byte[] frame = new byte[length];
        int l3 = WriteEthernet(frame, vlan, 0x0800);
        int l4 = l3 + 20;
        frame[l3] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(l3 + 2), (ushort)(length - l3));
        frame[l3 + 6] = 0x40;
        frame[l3 + 8] = 64;
        frame[l3 + 9] = udp ? (byte)17 : (byte)6;
        new byte[] { 198, 18, 0, 1, 198, 19, 0, 2 }.CopyTo(frame, l3 + 12);
        uint sum = 0;
        for (int i = 0; i < 20; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(l3 + i));
        }

        sum = (sum & 0xFFFF) + (sum >> 16);
        sum = (sum & 0xFFFF) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(l3 + 10), (ushort)~sum);
        WriteTransport(frame, l4, udp, port);
        return frame;
    }

    public static byte[] Ipv6Tcp(ushort port)
    {
        byte[] frame = new byte[14 + 40 + 20];
        int l3 = WriteEthernet(frame, vlan: false, 0x86DD);
        frame[l3] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(l3 + 4), 20);
        frame[l3 + 6] = 6;
        frame[l3 + 7] = 64;
        frame[l3 + 8] = 0x20;
        frame[l3 + 9] = 0x01;
        frame[l3 + 23] = 1;
        frame[l3 + 24] = 0x20;
        frame[l3 + 25] = 0x01;
        frame[l3 + 39] = 2;
        WriteTransport(frame, l3 + 40, udp: false, port);
        return frame;
    }

    private static int WriteEthernet(byte[] frame, bool vlan, ushort etherType)
    {
        frame[0] = 0x02;
        frame[6] = 0x02;
        frame[11] = 1;
        if (vlan)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x8100);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), 100);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), etherType);
            return 18;
        }

        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), etherType);
        return 14;
    }

    private static void WriteTransport(byte[] frame, int l4, bool udp, ushort port)
    {
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(l4), port);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(l4 + 2), 53);
        if (udp)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(l4 + 4), (ushort)(frame.Length - l4));
        }
        else
        {
            frame[l4 + 12] = 0x50;
            frame[l4 + 13] = 0x10;
        }
    }
}
