using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// An in-memory traffic source for benchmarks: every receive writes fresh frames of this worker's share of the
/// flows into the caller's buffers, as a NIC with RSS would deliver them to one queue.
/// </summary>
/// <remarks>
/// Each frame is a copy of one template (in L1) with the flow's source address, port and both checksums stamped
/// in, so building a frame costs a few nanoseconds, like a NIC's DMA write that the worker then reads. The stamps
/// (address, port, IPv4 and UDP checksums) are computed per flow at construction: per packet that leaves one
/// sequential 12-byte read instead of two integer divisions and two checksum folds (issue 18), and frames of up
/// to 64 bytes are copied as one fixed 64-byte block instead of a call to memmove. Flows are assigned to workers
/// by <see cref="RssHash"/> of their 5-tuple.
/// Concurrency: one worker thread calls <see cref="Receive"/>; <see cref="Transmit"/> is not supported.
/// </remarks>
public sealed unsafe class GeneratorPort : PacketPort
{
    private const int FcsBytes = 4;
    private const int TemplateBytes = 14 + 4 + 20 + 8;
    private const int SourceOffset = 18 + 12;
    private const int SourcePortOffset = 18 + 20;
    private const int IpChecksumOffset = 18 + 10;
    private const int UdpChecksumOffset = 18 + 20 + 6;

    // Locally administered MACs; the worker overwrites them with the egress port's anyway.
    private static readonly byte[] s_sourceMac = [0x02, 0, 0, 0, 0, 0x01];
    private static readonly byte[] s_destinationMac = [0x02, 0, 0, 0, 0, 0x02];

    // Frames up to this long are copied as one fixed block (the template is padded to it with zeros).
    private const int FixedCopyBytes = 64;

    private readonly byte* _template;
    private readonly int _length;
    private readonly FlowStamp[] _flows;
    private long _remaining;
    private int _cursor;

    /// <summary>Creates the generator for worker <paramref name="worker"/> of <paramref name="workers"/>, producing <paramref name="packets"/> frames.</summary>
    public GeneratorPort(string name, GeneratorSpec spec, int worker, int workers, long packets)
        : base(name)
    {
        int length = spec.FrameSize - FcsBytes;
        if (length < TemplateBytes + 14 || length > 9000)
        {
            throw new ArgumentOutOfRangeException(nameof(spec), spec.FrameSize, $"frame size must be {TemplateBytes + 14 + FcsBytes}-{9000 + FcsBytes} bytes");
        }

        if (spec.Mappings is <= 0 or > GeneratorSpec.MaxMappings || spec.Flows <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(spec), $"flows must be positive and mappings 1-{GeneratorSpec.MaxMappings}");
        }

        _length = length;
        _remaining = packets;
        _template = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(length, FixedCopyBytes), 64);
        new Span<byte>(_template, Math.Max(length, FixedCopyBytes)).Clear();
        // One frame built once with full checksums (UdpFrameBuilder); each packet then patches source and port.
        Span<byte> source = stackalloc byte[4];
        Span<byte> destination = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(source, GeneratorSpec.UserAddress(0));
        BinaryPrimitives.WriteUInt32BigEndian(destination, GeneratorSpec.Destination);
        UdpFrameBuilder.Write(new Span<byte>(_template, length), s_sourceMac, s_destinationMac, spec.Tenant, source, destination, 0, 9,
            length - TemplateBytes);
        _flows = AssignFlows(spec, worker, workers, Unsafe.ReadUnaligned<ushort>(_template + IpChecksumOffset),
            Unsafe.ReadUnaligned<ushort>(_template + UdpChecksumOffset));
        if (_flows.Length == 0)
        {
            throw new ArgumentException($"worker {worker} of {workers} received no flows; use more flows than workers", nameof(spec));
        }
    }

    /// <summary>Flows this generator cycles through.</summary>
    public int FlowCount => _flows.Length;

    /// <summary>Frames still to produce.</summary>
    public long Remaining => _remaining;

    /// <inheritdoc />
    public override int Receive(ReadOnlySpan<RxBuffer> buffers, Span<FrameView> frames)
    {
        int count = (int)Math.Min(buffers.Length, _remaining);
        if (count <= 0 || frames.Length < count)
        {
            return 0;
        }

        ref RxBuffer buffer0 = ref MemoryMarshal.GetReference(buffers);
        ref FrameView frame0 = ref MemoryMarshal.GetReference(frames);
        ref FlowStamp flow0 = ref MemoryMarshal.GetArrayDataReference(_flows);
        int cursor = _cursor;
        int produced = 0;
        for (int i = 0; i < count; i++)
        {
            RxBuffer buffer = Unsafe.Add(ref buffer0, i);
            if (buffer.Capacity < _length)
            {
                continue;
            }

            ref readonly FlowStamp flow = ref Unsafe.Add(ref flow0, cursor);
            if (++cursor == _flows.Length)
            {
                cursor = 0;
            }

            Build(buffer.Data, buffer.Capacity, in flow);
            Unsafe.Add(ref frame0, produced++) = new FrameView(buffer.Data, _length);
        }

        _cursor = cursor;
        _remaining -= produced;
        PortCounters counters = Counters;
        counters._rxPackets += produced;
        counters._rxBytes += (long)produced * _length;
        return produced;
    }

    /// <inheritdoc />
    public override int Transmit(ReadOnlySpan<FrameView> frames, ReadOnlySpan<PacketMeta> meta) => 0;

    /// <inheritdoc />
    protected override void Dispose(bool disposing) => NativeMemory.AlignedFree(_template);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Build(byte* data, int capacity, in FlowStamp flow)
    {
        if (_length <= FixedCopyBytes && capacity >= FixedCopyBytes)
        {
            // A constant size: two vector loads and stores, no call.
            Unsafe.CopyBlockUnaligned(data, _template, FixedCopyBytes);
        }
        else
        {
            Unsafe.CopyBlockUnaligned(data, _template, (uint)_length);
        }

        Unsafe.WriteUnaligned(data + SourceOffset, flow.Source);
        Unsafe.WriteUnaligned(data + SourcePortOffset, flow.Port);
        Unsafe.WriteUnaligned(data + IpChecksumOffset, flow.IpChecksum);
        Unsafe.WriteUnaligned(data + UdpChecksumOffset, flow.UdpChecksum);
    }

    private static ushort SourcePort(uint flow, int mappings) => (ushort)(1024 + (flow / (uint)mappings % 64000));

    /// <summary>The RSS hash that decides which worker a flow belongs to.</summary>
    private static uint FlowHash(GeneratorSpec spec, uint flow) =>
        RssHash.Compute(GeneratorSpec.UserAddress((int)(flow % (uint)spec.Mappings)), GeneratorSpec.Destination, SourcePort(flow, spec.Mappings), 9, 17);

    /// <summary>The first of <paramref name="workers"/> workers that RSS would give none of the flows (it could not
    /// run), or null when every worker gets some: the configuration check, before any port opens.</summary>
    public static int? FirstWorkerWithoutFlows(GeneratorSpec spec, int workers)
    {
        var served = new bool[workers];
        int left = workers;
        for (uint flow = 0; flow < (uint)spec.Flows && left > 0; flow++)
        {
            int worker = (int)(FlowHash(spec, flow) % (uint)workers);
            if (!served[worker])
            {
                served[worker] = true;
                left--;
            }
        }

        return left == 0 ? null : Array.IndexOf(served, false);
    }

    private static FlowStamp[] AssignFlows(GeneratorSpec spec, int worker, int workers, ushort ipChecksum, ushort udpChecksum)
    {
        var mine = new List<FlowStamp>(spec.Flows / Math.Max(1, workers) + 16);
        // Template fields are 0 for the port and mapping 0's address, so the deltas are against those words.
        uint templateSource = BinaryPrimitives.ReverseEndianness(GeneratorSpec.UserAddress(0));
        for (uint flow = 0; flow < (uint)spec.Flows; flow++)
        {
            if (workers == 1 || FlowHash(spec, flow) % (uint)workers == (uint)worker)
            {
                uint source = BinaryPrimitives.ReverseEndianness(GeneratorSpec.UserAddress((int)(flow % (uint)spec.Mappings)));
                ushort port = BinaryPrimitives.ReverseEndianness(SourcePort(flow, spec.Mappings));
                ulong addressDelta = (ulong)(uint)~templateSource + source;
                ushort udp = IncrementalChecksum.Apply(udpChecksum, addressDelta + IncrementalChecksum.Delta(0, port));
                mine.Add(new FlowStamp(source, port, IncrementalChecksum.Apply(ipChecksum, addressDelta), udp == 0 ? (ushort)0xFFFF : udp));
            }
        }

        return [.. mine];
    }

    /// <summary>What one flow's frames differ in from the template, in network order (12 bytes: the per-flow table streams).</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 2)]
    private readonly struct FlowStamp(uint source, ushort port, ushort ipChecksum, ushort udpChecksum)
    {
        public readonly uint Source = source;
        public readonly ushort Port = port;
        public readonly ushort IpChecksum = ipChecksum;
        public readonly ushort UdpChecksum = udpChecksum;
    }
}
