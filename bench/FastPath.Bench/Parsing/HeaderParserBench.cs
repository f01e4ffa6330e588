using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using FastPath.Dataplane.Parsing;
using PacketDotNet;

namespace FastPath.Bench.Parsing;

/// <summary>
/// Parse throughput in ns per packet: every <see cref="HeaderParser"/> path forced, and PacketDotNet
/// (<c>Packet.ParsePacket</c> + reading VLAN, addresses, protocol, TTL and ports) as the anchor in the same run.
/// </summary>
/// <remarks>
/// 256 frames at a 128-byte stride (32 KiB, as frames sit in a receive ring's hot slots) are parsed per invocation in
/// batches of <see cref="Batch"/>; one operation is one packet.
/// Run: <c>dotnet run -c Release --project bench/FastPath.Bench -- --filter '*HeaderParserBench*' --job short</c>.
/// </remarks>
[MemoryDiagnoser]
public unsafe class HeaderParserBench
{
    private const int Frames = 256;
    private const int Stride = 128;

    private byte[] _buffer = [];
    private FrameView[] _views = [];
    private byte[][] _copies = [];
    private PacketMeta[] _meta = [];

    [Params(ParseTraffic.Ipv4Udp, ParseTraffic.Ipv6Tcp, ParseTraffic.VlanIpv4Mix)]
    public ParseTraffic Traffic { get; set; }

    [Params(1, 32, 256)]
    public int Batch { get; set; }

    [Params(ParserUnderTest.PacketDotNet, ParserUnderTest.Scalar, ParserUnderTest.Vector128, ParserUnderTest.Vector256, ParserUnderTest.Vector512)]
    public ParserUnderTest Parser { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _buffer = GC.AllocateArray<byte>((Frames * Stride) + 64, pinned: true);
        _views = new FrameView[Frames];
        _copies = new byte[Frames][];
        _meta = new PacketMeta[Frames];
        var random = new Random(4);
        byte* start = (byte*)(((nuint)Unsafe.AsPointer(ref _buffer[0]) + 63) & ~(nuint)63);
        for (int i = 0; i < Frames; i++)
        {
            byte[] frame = Traffic switch
            {
                ParseTraffic.Ipv4Udp => BenchFrames.Ipv4(vlan: false, udp: true, length: 64, port: (ushort)(1000 + i)),
                ParseTraffic.Ipv6Tcp => BenchFrames.Ipv6Tcp(port: (ushort)(1000 + i)),
                _ => BenchFrames.Ipv4(vlan: random.Next(2) == 0, udp: random.Next(2) == 0, length: 64, port: (ushort)(1000 + i)),
            };
            _copies[i] = frame;
            frame.CopyTo(new Span<byte>(start + (i * Stride), frame.Length));
            _views[i] = new FrameView(start + (i * Stride), frame.Length);
        }

        HeaderParser.Parse(ParserPath.Scalar, _views, _meta);
        foreach (PacketMeta meta in _meta)
        {
            if (meta.Verdict != Dataplane.DropReason.None)
            {
                throw new InvalidOperationException($"benchmark frame rejected: {meta.Verdict}");
            }
        }
    }

    [Benchmark(OperationsPerInvoke = Frames)]
    public long Parse()
    {
        if (Parser == ParserUnderTest.PacketDotNet)
        {
            return ParseWithPacketDotNet();
        }

        var path = (ParserPath)((int)Parser - 1);
        long sum = 0;
        for (int first = 0; first < Frames; first += Batch)
        {
            HeaderParser.Parse(path, _views.AsSpan(first, Batch), _meta.AsSpan(first, Batch));
        }

        // Read what the mapping stage would read so the stores cannot be elided.
        for (int i = 0; i < Frames; i += 64)
        {
            sum += _meta[i].SourcePort + _meta[i].PacketEnd;
        }

        return sum;
    }

    private long ParseWithPacketDotNet()
    {
        long sum = 0;
        for (int i = 0; i < Frames; i++)
        {
            Packet packet = Packet.ParsePacket(LinkLayers.Ethernet, _copies[i]);
            Ieee8021QPacket? tag = packet.Extract<Ieee8021QPacket>();
            IPPacket? ip = packet.Extract<IPPacket>();
            if (ip is null)
            {
                continue;
            }

            sum += (tag?.VlanIdentifier ?? 0) + (int)ip.Protocol + ip.TimeToLive + ip.TotalLength;
            sum += AddressBits(ip.SourceAddress) + AddressBits(ip.DestinationAddress);
            if (ip.PayloadPacket is TransportPacket transport)
            {
                sum += transport.SourcePort + transport.DestinationPort;
            }
        }

        return sum;
    }

    private static long AddressBits(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int written);
        return BinaryPrimitives.ReadInt32BigEndian(bytes[(written - 4)..]);
    }
}
