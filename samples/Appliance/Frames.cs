using System.Buffers.Binary;
using System.Net;

namespace Appliance;

/// <summary>Builds the test traffic: Ethernet + 802.1Q + IPv4 + UDP with correct checksums.</summary>
internal static class Frames
{
    public static byte[] Udp(ushort vlan, string source, string destination, ushort sourcePort, ushort destinationPort)
    {
        ReadOnlySpan<byte> payload = "appliance sample payload"u8;
        int ip = 18;
        int udp = ip + 20;
        var frame = new byte[udp + 8 + payload.Length];
        byte[] dst = [0x02, 0xfa, 0x57, 0, 0, 0x01];
        byte[] src = [0x02, 0xfa, 0x57, 0, 0, 0xee];
        dst.CopyTo(frame, 0);
        src.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x8100);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), vlan);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), 0x0800);

        Span<byte> header = frame.AsSpan(ip, 20);
        header[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)(20 + 8 + payload.Length));
        header[8] = 64;
        header[9] = 17;
        IPAddress.Parse(source).TryWriteBytes(header[12..], out _);
        IPAddress.Parse(destination).TryWriteBytes(header[16..], out _);
        BinaryPrimitives.WriteUInt16BigEndian(header[10..], Fold(Sum(header, 0)));

        Span<byte> datagram = frame.AsSpan(udp);
        BinaryPrimitives.WriteUInt16BigEndian(datagram, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram[2..], destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(datagram[4..], (ushort)(8 + payload.Length));
        payload.CopyTo(datagram[8..]);
        uint pseudo = Sum(header.Slice(12, 8), 17u + (uint)datagram.Length);
        ushort checksum = Fold(Sum(datagram, pseudo));
        BinaryPrimitives.WriteUInt16BigEndian(datagram[6..], checksum == 0 ? (ushort)0xffff : checksum);
        return frame;
    }

    private static uint Sum(ReadOnlySpan<byte> bytes, uint sum)
    {
        for (int i = 0; i + 1 < bytes.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(bytes[i..]);
        }

        if ((bytes.Length & 1) != 0)
        {
            sum += (uint)bytes[^1] << 8;
        }

        return sum;
    }

    private static ushort Fold(uint sum)
    {
        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return (ushort)~sum;
    }
}
