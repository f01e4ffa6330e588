using System.Collections.Concurrent;
using System.Threading.Channels;
using BenchmarkDotNet.Attributes;
using FastPath.Dataplane.Rings;

namespace FastPath.Bench.Rings;

/// <summary>
/// A producer (the benchmark thread) and a consumer (a dedicated spinning thread) on the machine's two
/// cores, as DPDK <c>test_ring_perf.c</c>'s "two physical cores" test: time per element moved through.
/// Every consumer busy-polls with the non-blocking API, so Channels and ConcurrentQueue pay no wake-ups.
/// </summary>
[MinColumn]
[MedianColumn]
public class RingTwoThreadBenchmarks
{
    private const int ElementsPerInvoke = 1 << 18;
    private const uint Capacity = 1024;

    private readonly ulong[] _in = new ulong[32];
    private SpscRing<ulong> _spsc = null!;
    private MpmcRing<ulong> _mpmc = null!;
    private Channel<ulong> _channel = null!;
    private ConcurrentQueue<ulong> _queue = null!;
    private Thread _consumer = null!;
    private Kind _kind;
    private int _started;
    private int _finished;
    private bool _stop;

    private enum Kind
    {
        Spsc,
        Mpmc,
        Channels,
        ConcurrentQueue,
    }

    [Params(1, 32)]
    public int Burst { get; set; }

    [GlobalSetup(Target = nameof(Spsc))]
    public void SetupSpsc() => Start(Kind.Spsc);

    [GlobalSetup(Target = nameof(Mpmc))]
    public void SetupMpmc() => Start(Kind.Mpmc);

    [GlobalSetup(Target = nameof(Channels))]
    public void SetupChannels() => Start(Kind.Channels);

    [GlobalSetup(Target = nameof(ConcurrentQueue))]
    public void SetupConcurrentQueue() => Start(Kind.ConcurrentQueue);

    [GlobalCleanup]
    public void Cleanup()
    {
        Volatile.Write(ref _stop, true);
        _consumer.Join();
        _spsc.Dispose();
        _mpmc.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = ElementsPerInvoke)]
    public void Spsc()
    {
        int round = Begin();
        ReadOnlySpan<ulong> batch = _in.AsSpan(0, Burst);
        for (int sent = 0; sent < ElementsPerInvoke;)
        {
            sent += Burst == 1 ? (_spsc.TryEnqueue(1) ? 1 : 0) : _spsc.EnqueueBurst(batch);
        }

        End(round);
    }

    [Benchmark(OperationsPerInvoke = ElementsPerInvoke)]
    public void Mpmc()
    {
        int round = Begin();
        ReadOnlySpan<ulong> batch = _in.AsSpan(0, Burst);
        for (int sent = 0; sent < ElementsPerInvoke;)
        {
            sent += Burst == 1 ? (_mpmc.TryEnqueue(1) ? 1 : 0) : _mpmc.EnqueueBurst(batch);
        }

        End(round);
    }

    [Benchmark(OperationsPerInvoke = ElementsPerInvoke)]
    public void Channels()
    {
        int round = Begin();
        ChannelWriter<ulong> writer = _channel.Writer;
        for (int sent = 0; sent < ElementsPerInvoke;)
        {
            sent += writer.TryWrite(1) ? 1 : 0;
        }

        End(round);
    }

    [Benchmark(OperationsPerInvoke = ElementsPerInvoke)]
    public void ConcurrentQueue()
    {
        int round = Begin();
        ConcurrentQueue<ulong> queue = _queue;
        for (int sent = 0; sent < ElementsPerInvoke; sent++)
        {
            // Unbounded: keep the consumer from falling a whole invocation behind, about like a ring of the
            // same capacity; Count walks the segments, so it is checked once per 256 elements only.
            while ((sent & 255) == 0 && queue.Count >= Capacity)
            {
                Thread.SpinWait(1);
            }

            queue.Enqueue(1);
        }

        End(round);
    }

    private void Start(Kind kind)
    {
        _kind = kind;
        _spsc = new SpscRing<ulong>(Capacity);
        _mpmc = new MpmcRing<ulong>(Capacity);
        _channel = Channel.CreateBounded<ulong>(new BoundedChannelOptions((int)Capacity) { SingleReader = true, SingleWriter = true });
        _queue = new ConcurrentQueue<ulong>();
        _consumer = new Thread(Consume) { IsBackground = true, Name = "ring consumer" };
        _consumer.Start();
    }

    private int Begin() => Interlocked.Increment(ref _started);

    private void End(int round)
    {
        while (Volatile.Read(ref _finished) != round)
        {
            Thread.SpinWait(1);
        }
    }

    private void Consume()
    {
        Span<ulong> batch = stackalloc ulong[32];
        int round = 0;
        while (!Volatile.Read(ref _stop))
        {
            if (Volatile.Read(ref _started) == round)
            {
                Thread.SpinWait(1);
                continue;
            }

            round++;
            int burst = Burst;
            for (int received = 0; received < ElementsPerInvoke;)
            {
                received += _kind switch
                {
                    Kind.Spsc => burst == 1 ? (_spsc.TryDequeue(out _) ? 1 : 0) : _spsc.DequeueBurst(batch[..burst]),
                    Kind.Mpmc => burst == 1 ? (_mpmc.TryDequeue(out _) ? 1 : 0) : _mpmc.DequeueBurst(batch[..burst]),
                    Kind.Channels => _channel.Reader.TryRead(out _) ? 1 : 0,
                    _ => _queue.TryDequeue(out _) ? 1 : 0,
                };
            }

            Volatile.Write(ref _finished, round);
        }
    }
}
