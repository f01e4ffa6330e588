using System.Collections.Concurrent;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Rings;

namespace FastPath.Bench.Rings;

/// <summary>
/// Enqueue a burst, then dequeue it, on one thread: DPDK <c>test_ring_perf.c</c>'s one-core
/// "bulk enq/dequeue" figure (and its "SP/SC single enq/dequeue" for <see cref="Burst"/> = 1), per element.
/// Elements are 8 bytes like DPDK's <c>void*</c>; <see cref="SpscDescriptor"/> moves 16-byte frame descriptors.
/// Channels and ConcurrentQueue have no bulk API, so their burst is a loop of single calls.
/// </summary>
[MemoryDiagnoser]
[MinColumn]
[MedianColumn]
public class RingOneCoreBenchmarks
{
    /// <summary>Elements moved per invocation: enough to hide the harness call, few enough to stay in L1.</summary>
    private const int ElementsPerInvoke = 4096;
    private const uint Capacity = 1024;

    private readonly ulong[] _in = new ulong[128];
    private readonly ulong[] _out = new ulong[128];
    private readonly UInt128[] _descriptorsIn = new UInt128[128];
    private readonly UInt128[] _descriptorsOut = new UInt128[128];
    private SpscRing<ulong> _spsc = null!;
    private SpscRing<UInt128> _spscDescriptors = null!;
    private MpmcRing<ulong> _mpmc = null!;
    private Channel<ulong> _channel = null!;
    private ConcurrentQueue<ulong> _queue = null!;

    [Params(1, 8, 32, 128)]
    public int Burst { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _spsc = new SpscRing<ulong>(Capacity);
        _spscDescriptors = new SpscRing<UInt128>(Capacity);
        _mpmc = new MpmcRing<ulong>(Capacity);
        _channel = Channel.CreateBounded<ulong>(new BoundedChannelOptions((int)Capacity) { SingleReader = true, SingleWriter = true });
        _queue = new ConcurrentQueue<ulong>();
        for (int i = 0; i < _in.Length; i++)
        {
            _in[i] = (ulong)i;
            _descriptorsIn[i] = new UInt128((ulong)i, 64) /* 16-byte elements, as DPDK's 16 B ring case */;
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _spsc.Dispose();
        _spscDescriptors.Dispose();
        _mpmc.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = ElementsPerInvoke)]
    public ulong Spsc()
    {
        SpscRing<ulong> ring = _spsc;
        ulong sum = 0;
        if (Burst == 1)
        {
            for (int i = 0; i < ElementsPerInvoke; i++)
            {
                ring.TryEnqueue((ulong)i);
                ring.TryDequeue(out ulong item);
                sum += item;
            }

            return sum;
        }

        ReadOnlySpan<ulong> input = _in.AsSpan(0, Burst);
        Span<ulong> output = _out.AsSpan(0, Burst);
        for (int i = 0; i < ElementsPerInvoke; i += Burst)
        {
            ring.TryEnqueueBulk(input);
            ring.TryDequeueBulk(output);
        }

        return output[0];
    }

    [Benchmark(OperationsPerInvoke = ElementsPerInvoke)]
    public ulong SpscDescriptor()
    {
        SpscRing<UInt128> ring = _spscDescriptors;
        if (Burst == 1)
        {
            ulong sum = 0;
            for (int i = 0; i < ElementsPerInvoke; i++)
            {
                ring.TryEnqueue(_descriptorsIn[0]);
                ring.TryDequeue(out UInt128 item);
                sum += (ulong)item;
            }

            return sum;
        }

        ReadOnlySpan<UInt128> input = _descriptorsIn.AsSpan(0, Burst);
        Span<UInt128> output = _descriptorsOut.AsSpan(0, Burst);
        for (int i = 0; i < ElementsPerInvoke; i += Burst)
        {
            ring.TryEnqueueBulk(input);
            ring.TryDequeueBulk(output);
        }

        return (ulong)output[0];
    }

    [Benchmark(OperationsPerInvoke = ElementsPerInvoke)]
    public ulong Mpmc()
    {
        MpmcRing<ulong> ring = _mpmc;
        ulong sum = 0;
        if (Burst == 1)
        {
            for (int i = 0; i < ElementsPerInvoke; i++)
            {
                ring.TryEnqueue((ulong)i);
                ring.TryDequeue(out ulong item);
                sum += item;
            }

            return sum;
        }

        ReadOnlySpan<ulong> input = _in.AsSpan(0, Burst);
        Span<ulong> output = _out.AsSpan(0, Burst);
        for (int i = 0; i < ElementsPerInvoke; i += Burst)
        {
            ring.TryEnqueueBulk(input);
            ring.TryDequeueBulk(output);
        }

        return output[0];
    }

    [Benchmark(OperationsPerInvoke = ElementsPerInvoke)]
    public ulong Channels()
    {
        ChannelWriter<ulong> writer = _channel.Writer;
        ChannelReader<ulong> reader = _channel.Reader;
        ulong sum = 0;
        for (int i = 0; i < ElementsPerInvoke; i += Burst)
        {
            for (int j = 0; j < Burst; j++)
            {
                writer.TryWrite(_in[j]);
            }

            for (int j = 0; j < Burst; j++)
            {
                reader.TryRead(out ulong item);
                sum += item;
            }
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = ElementsPerInvoke)]
    public ulong ConcurrentQueue()
    {
        ConcurrentQueue<ulong> queue = _queue;
        ulong sum = 0;
        for (int i = 0; i < ElementsPerInvoke; i += Burst)
        {
            for (int j = 0; j < Burst; j++)
            {
                queue.Enqueue(_in[j]);
            }

            for (int j = 0; j < Burst; j++)
            {
                queue.TryDequeue(out ulong item);
                sum += item;
            }
        }

        return sum;
    }
}
