using System.Buffers.Binary;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Bench.Rewrite;

/// <summary>
/// ICMP port-unreachable frames for <see cref="RewriteBench"/>: the error a host sends back for one of
/// <see cref="BenchPackets"/>' 64-byte UDP frames, quoting the whole datagram (42 bytes) as Linux does, checksums complete.
/// </summary>
internal static class IcmpErrorPackets
{
    private const int QuoteLength = 20 + 8 + 14;

    /// <summary>Writes the error for mapping <paramref name="index"/> % 1024; returns the frame length.</summary>
    /// <param name="frame">Destination, at least 110 bytes.</param>
    /// <param name="toSecure">True: the user host 10.1.x.y (tenant 100, tagged) reports to 192.0.2.9; false: 192.0.2.9 reports to 198.18.x.y.</param>
    /// <param name="index">Which mapping the addresses use.</param>
    public static unsafe int Write(Span<byte> frame, bool toSecure, int index)
    {
        frame.Clear();
        frame[0] = 2; frame[5] = 2; frame[6] = 2; frame[11] = 1;
        int l3 = 14;
        if (toSecure)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame[12..], 0x8100);
            BinaryPrimitives.WriteUInt16BigEndian(frame[14..], 100);
            l3 = 18;
        }

        BinaryPrimitives.WriteUInt16BigEndian(frame[(l3 - 2)..], 0x0800);
        int m = index % 1024;
        byte[] host = [192, 0, 2, 9];
        byte[] mapped = toSecure ? [10, 1, (byte)(m / 256), (byte)(m % 256)] : [198, 18, (byte)(m / 256), (byte)(m % 256)];

        // The quoted datagram went the other way: mapped host → 192.0.2.9 is what 192.0.2.9 reports, and vice versa.
        Span<byte> quote = frame[(l3 + 28)..];
        WriteIpv4(quote, toSecure ? host : mapped, toSecure ? mapped : host, 17, 8 + 14, ttl: 1);
        BinaryPrimitives.WriteUInt16BigEndian(quote[20..], 2000);
        BinaryPrimitives.WriteUInt16BigEndian(quote[22..], 1000);
        BinaryPrimitives.WriteUInt16BigEndian(quote[24..], 8 + 14);
        fixed (byte* q = quote)
        {
            ulong pseudo = (ulong)*(uint*)(q + 12) + *(uint*)(q + 16)
                + BinaryPrimitives.ReverseEndianness((ushort)17) + (ulong)BinaryPrimitives.ReverseEndianness((ushort)(8 + 14));
            *(ushort*)(q + 26) = IncrementalChecksum.Compute(q + 20, 8 + 14, pseudo);
        }

        Span<byte> ip = frame[l3..];
        WriteIpv4(ip, toSecure ? mapped : host, toSecure ? host : mapped, 1, 8 + QuoteLength, ttl: 64);
        ip[20] = 3; // destination unreachable
        ip[21] = 3; // port unreachable
        fixed (byte* icmp = ip[20..])
        {
            *(ushort*)(icmp + 2) = IncrementalChecksum.Compute(icmp, 8 + QuoteLength);
        }

        return l3 + 20 + 8 + QuoteLength;
    }

    private static unsafe void WriteIpv4(Span<byte> ip, byte[] source, byte[] destination, byte protocol, int payload, byte ttl)
    {
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + payload));
        ip[8] = ttl;
        ip[9] = protocol;
        source.CopyTo(ip[12..]);
        destination.CopyTo(ip[16..]);
        fixed (byte* p = ip)
        {
            *(ushort*)(p + 10) = IncrementalChecksum.Compute(p, 20);
        }
    }
}
