using System.Buffers.Binary;
using System.Net;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using FastPath.Bench.Mapping;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Bench.Rewrite;

/// <summary>
/// Rewrite cost per packet, per case: <see cref="HeaderRewriter"/> alone (addresses, TTL, checksums) and the whole
/// <see cref="TranslationStage"/> (parse + two bulk lookups + rewrite + VLAN pop/push + MACs) on a batch of 64
/// frames, with the per-batch frame refresh it needs (frames are rewritten in place) measured on its own as
/// <see cref="RefreshOnly"/> so it can be subtracted.
/// </summary>
[Config(typeof(MappingBenchConfig))]
public unsafe class RewriteBench
{
    private const int Batch = 64;
    private const int Slot = 256;
    private const int Headroom = 64;

    private byte* _templates;
    private byte* _frames;
    private int _length;
    private FrameView[] _views = [];
    private PacketMeta[] _meta = [];
    private MappingTable? _table;
    private TranslationStage? _stage;
    private byte[] _newSource = [];

    [Params(RewriteCase.Ipv4UdpVlanToSecure, RewriteCase.Ipv6TcpToSecure, RewriteCase.Ipv4UdpToUserVlanPush,
        RewriteCase.Ipv4IcmpErrorVlanToSecure, RewriteCase.Ipv4IcmpErrorToUserVlanPush)]
    public RewriteCase Case { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _templates = (byte*)NativeMemory.AlignedAlloc(Batch * Slot, 64);
        _frames = (byte*)NativeMemory.AlignedAlloc(Batch * Slot, 64);
        _table = new MappingTable(2048);
        for (int i = 0; i < 1024; i++)
        {
            _table.Add(MappingEntry.Create(100, IPAddress.Parse($"10.1.{i / 256}.{i % 256}"), IPAddress.Parse($"198.18.{i / 256}.{i % 256}")));
            _table.Add(MappingEntry.Create(100, IPAddress.Parse($"fd00::{i:x}"), IPAddress.Parse($"2001:db8::{i:x}")));
        }

        for (int i = 0; i < Batch; i++)
        {
            var template = new Span<byte>(_templates + (i * Slot) + Headroom, Slot - Headroom);
            _length = Case switch
            {
                RewriteCase.Ipv4IcmpErrorVlanToSecure => IcmpErrorPackets.Write(template, toSecure: true, i),
                RewriteCase.Ipv4IcmpErrorToUserVlanPush => IcmpErrorPackets.Write(template, toSecure: false, i),
                _ => BenchPackets.Write(template, Case, i),
            };
        }

        var direction = Case is RewriteCase.Ipv4UdpToUserVlanPush or RewriteCase.Ipv4IcmpErrorToUserVlanPush
            ? TranslationDirection.SecureToUser
            : TranslationDirection.UserToSecure;
        _stage = new TranslationStage(_table, direction, EgressMacs.Create([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]));
        _views = new FrameView[Batch];
        _meta = new PacketMeta[Batch];
        _newSource = Case == RewriteCase.Ipv6TcpToSecure ? IPAddress.Parse("2001:db8::77").GetAddressBytes() : [198, 18, 0, 77];
        // The benchmark measures translation, not drops: every frame must come out translated.
        Refresh();
        _stage.Process(_views, _meta);
        foreach (PacketMeta meta in _meta)
        {
            if (meta.Verdict != FastPath.Dataplane.DropReason.None)
            {
                throw new InvalidOperationException($"{Case}: a benchmark frame was dropped ({meta.Verdict})");
            }
        }

        Refresh();
        HeaderParser.Parse(_views, _meta);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _table?.Dispose();
        NativeMemory.AlignedFree(_templates);
        NativeMemory.AlignedFree(_frames);
    }

    /// <summary>Addresses, TTL and checksums of one parsed packet (the frame keeps being rewritten; TTL wraps harmlessly).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void HeaderRewriteOnly()
    {
        fixed (byte* source = _newSource)
        {
            for (int i = 0; i < Batch; i++)
            {
                HeaderRewriter.Apply(_views[i].Data, _meta[i], source, null);
            }
        }
    }

    /// <summary>Copying 64 fresh frames in (what a port's receive does anyway).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void RefreshOnly() => Refresh();

    /// <summary>Refresh + parse + lookups + rewrite + VLAN + MACs: the worker's whole per-packet work.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void TranslationStageBatch()
    {
        Refresh();
        _stage!.Process(_views, _meta);
    }

    private void Refresh()
    {
        for (int i = 0; i < Batch; i++)
        {
            byte* frame = _frames + (i * Slot) + Headroom;
            Buffer.MemoryCopy(_templates + (i * Slot) + Headroom, frame, _length, _length);
            _views[i] = new FrameView(frame, _length);
        }
    }
}

/// <summary>Which packets <see cref="RewriteBench"/> rewrites.</summary>
public enum RewriteCase
{
    /// <summary>64-byte IPv4/UDP with an 802.1Q tag, user → secure: source mapped, tag popped.</summary>
    Ipv4UdpVlanToSecure,

    /// <summary>IPv6/TCP with an 802.1Q tag, user → secure.</summary>
    Ipv6TcpToSecure,

    /// <summary>64-byte IPv4/UDP from the secure side: destination mapped back, tenant's tag pushed.</summary>
    Ipv4UdpToUserVlanPush,

    /// <summary>ICMP port unreachable quoting a whole 64-byte frame's UDP datagram, with an 802.1Q tag, user → secure: outer and quoted header translated.</summary>
    Ipv4IcmpErrorVlanToSecure,

    /// <summary>The same error from the secure side: outer and quoted header mapped back, tenant's tag pushed.</summary>
    Ipv4IcmpErrorToUserVlanPush,
}

/// <summary>Frames for <see cref="RewriteBench"/>, checksums complete.</summary>
internal static class BenchPackets
{
    public static unsafe int Write(Span<byte> frame, RewriteCase kind, int index)
    {
        frame.Clear();
        frame[0] = 2; frame[5] = 2; frame[6] = 2; frame[11] = 1;
        int l3 = 14;
        if (kind != RewriteCase.Ipv4UdpToUserVlanPush)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame[12..], 0x8100);
            BinaryPrimitives.WriteUInt16BigEndian(frame[14..], 100);
            l3 = 18;
        }

        bool v6 = kind == RewriteCase.Ipv6TcpToSecure;
        BinaryPrimitives.WriteUInt16BigEndian(frame[(l3 - 2)..], v6 ? (ushort)0x86DD : (ushort)0x0800);
        Span<byte> ip = frame[l3..];
        int l4Length = v6 ? 20 + 6 : 8 + 14;
        int ipHeader = v6 ? 40 : 20;
        int m = index % 1024;
        if (v6)
        {
            ip[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], (ushort)l4Length);
            ip[6] = 6;
            ip[7] = 64;
            IPAddress.Parse($"fd00::{m:x}").TryWriteBytes(ip[8..], out _);
            IPAddress.Parse("2001:db8:ffff::1").TryWriteBytes(ip[24..], out _);
            ip[40 + 12] = 0x50;
        }
        else
        {
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(20 + l4Length));
            ip[8] = 64;
            ip[9] = 17;
            byte[] source = kind == RewriteCase.Ipv4UdpToUserVlanPush ? [192, 0, 2, 9] : [10, 1, (byte)(m / 256), (byte)(m % 256)];
            byte[] destination = kind == RewriteCase.Ipv4UdpToUserVlanPush ? [198, 18, (byte)(m / 256), (byte)(m % 256)] : [192, 0, 2, 9];
            source.CopyTo(ip[12..]);
            destination.CopyTo(ip[16..]);
            BinaryPrimitives.WriteUInt16BigEndian(ip[20..], 1000);
            BinaryPrimitives.WriteUInt16BigEndian(ip[22..], 2000);
            BinaryPrimitives.WriteUInt16BigEndian(ip[24..], (ushort)l4Length);
        }

        fixed (byte* p = ip)
        {
            if (!v6)
            {
                *(ushort*)(p + 10) = IncrementalChecksum.Compute(p, 20);
            }

            int addressLength = v6 ? 16 : 4;
            ulong pseudo = 0;
            for (int i = 0; i < addressLength; i += 4)
            {
                pseudo += *(uint*)(p + (v6 ? 8 : 12) + i) + (ulong)*(uint*)(p + (v6 ? 24 : 16) + i);
            }

            pseudo += BinaryPrimitives.ReverseEndianness((ushort)(v6 ? 6 : 17)) + (ulong)BinaryPrimitives.ReverseEndianness((ushort)l4Length);
            int checksumAt = ipHeader + (v6 ? 16 : 6);
            *(ushort*)(p + checksumAt) = IncrementalChecksum.Compute(p + ipHeader, l4Length, pseudo);
        }

        return l3 + ipHeader + l4Length;
    }
}
