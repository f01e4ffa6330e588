using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Pipeline;

/// <summary>
/// The counters of every worker, in one 64-byte-aligned native block (pinned: workers write through pointers).
/// </summary>
/// <remarks>
/// Concurrency: worker <c>w</c> alone writes <see cref="For(int)"/>(<c>w</c>); <see cref="Read(int)"/> and
/// <see cref="Total"/> may be called from any thread at any time without stopping the workers.
/// </remarks>
public sealed unsafe class Counters : IDisposable
{
    private WorkerCounters* _block;
    private LatencyHistogram* _latency;

    /// <summary>Allocates zeroed counters for <paramref name="workers"/> workers.</summary>
    public Counters(int workers)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);
        Debug.Assert(DropReasons.Count <= WorkerCounters.DropSlots, "a drop reason without a counter slot");
        Workers = workers;
        nuint bytes = (nuint)(workers * WorkerCounters.Size);
        _block = (WorkerCounters*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(_block, bytes);
        nuint latencyBytes = (nuint)(workers * LatencyHistogram.Size);
        _latency = (LatencyHistogram*)NativeMemory.AlignedAlloc(latencyBytes, 64);
        NativeMemory.Clear(_latency, latencyBytes);
    }

    /// <summary>Number of workers.</summary>
    public int Workers { get; }

    /// <summary>The record worker <paramref name="worker"/> writes to.</summary>
    internal WorkerCounters* For(int worker)
    {
        ObjectDisposedException.ThrowIf(_block == null, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)worker, (uint)Workers, nameof(worker));
        return _block + worker;
    }

    /// <summary>The batch service-time histogram worker <paramref name="worker"/> writes to.</summary>
    internal LatencyHistogram* LatencyFor(int worker)
    {
        ObjectDisposedException.ThrowIf(_latency == null, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)worker, (uint)Workers, nameof(worker));
        return _latency + worker;
    }

    /// <summary>A copy of one worker's batch service-time histogram, read field by field while it runs.</summary>
    public LatencySnapshot ReadLatency(int worker)
    {
        LatencyHistogram* source = LatencyFor(worker);
        var buckets = new long[LatencyHistogram.BucketCount];
        for (int i = 0; i < buckets.Length; i++)
        {
            buckets[i] = Volatile.Read(ref source->Buckets[i]);
        }

        return new LatencySnapshot(buckets, Volatile.Read(ref source->Count), Volatile.Read(ref source->Sum), Volatile.Read(ref source->Max));
    }

    /// <summary>A copy of one worker's counters, read field by field while it runs.</summary>
    public WorkerCounters Read(int worker)
    {
        WorkerCounters* source = For(worker);
        var copy = default(WorkerCounters);
        long* from = (long*)source;
        long* to = (long*)&copy;
        for (int i = 0; i < WorkerCounters.Size / sizeof(long); i++)
        {
            to[i] = Volatile.Read(ref from[i]);
        }

        return copy;
    }

    /// <summary>The sum over all workers.</summary>
    public WorkerCounters Total()
    {
        var sum = default(WorkerCounters);
        long* to = (long*)&sum;
        for (int worker = 0; worker < Workers; worker++)
        {
            WorkerCounters one = Read(worker);
            long* from = (long*)&one;
            for (int i = 0; i < WorkerCounters.Size / sizeof(long); i++)
            {
                to[i] += from[i];
            }
        }

        return sum;
    }

    /// <summary>Drops with reason <paramref name="reason"/> in <paramref name="counters"/>.</summary>
    public static long Dropped(in WorkerCounters counters, DropReason reason)
    {
        fixed (long* drops = counters.Drops)
        {
            return drops[(int)reason];
        }
    }

    /// <summary>Frees the block; workers must have stopped.</summary>
    public void Dispose()
    {
        if (_block != null)
        {
            NativeMemory.AlignedFree(_block);
            _block = null;
        }

        if (_latency != null)
        {
            NativeMemory.AlignedFree(_latency);
            _latency = null;
        }
    }
}
