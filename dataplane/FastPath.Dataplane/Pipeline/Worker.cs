using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports;

namespace FastPath.Dataplane.Pipeline;

/// <summary>
/// A data-plane worker: one dedicated thread, optionally pinned to one core, busy-polling its RX ports in
/// batches — receive, translate (parse, bulk lookup, rewrite), transmit — and backing off only when idle: after
/// a short spin it either sleeps in poll(2) on its ports until the kernel has a frame (<see cref="WorkerIdle.Poll"/>,
/// when every port it polls can wake it) or yields the core between polls (<see cref="WorkerIdle.Spin"/>).
/// </summary>
/// <remarks>
/// The steady-state loop allocates nothing, takes no lock and throws nothing: every buffer is sized at
/// construction, the RX frames are a fixed set taken from the pool once (kernel and in-memory ports copy out of
/// them on TX, so they are free again as soon as TX returns) and dispatch through <see cref="PacketPort"/> is per
/// batch. <see cref="AllocatedBytesInLoop"/> records what the loop allocated, for the zero-allocation test.
/// Concurrency: <see cref="Start"/>, <see cref="Stop"/> and <see cref="Dispose"/> are for one controlling thread;
/// the counters are read from anywhere (<see cref="Counters"/>).
/// </remarks>
internal sealed unsafe partial class Worker : IDisposable
{
    /// <summary>Default frames per batch: enough to amortise dispatch and overlap lookups, small enough for L1.</summary>
    public const int DefaultBatchSize = 64;

    // Packets start this far into the payload slot, so a VLAN push (4 bytes) never leaves the slot.
    private const int RxHeadroom = 64;

    // Batches before the allocation baseline is taken: first calls run static constructors (keyed hash seed,
    // ISA detection), which allocate once and are not the steady state.
    private const int WarmupBatches = 64;

    /// <summary>Empty polls before the worker stops spinning and sleeps or yields the core, unless told otherwise.</summary>
    public const int DefaultSpinPolls = 256;

    /// <summary>Longest sleep in poll(2): bounds how late the worker sees <see cref="Stop"/>, and it counts an idle poll
    /// per wake-up, so the daemon's watchdog (its shortest period is 10 ms) sees an idle worker make progress.</summary>
    internal const int IdleWaitMilliseconds = 5;

    private readonly int _id;
    private readonly int _cpu;
    private readonly PortBinding[] _bindings;
    private readonly FramePool _pool;
    private readonly WorkerCounters* _counters;
    private readonly LatencyHistogram* _latency;
    private readonly int _batchSize;
    private readonly uint[] _frameIndices;
    private readonly RxBuffer[] _rx;
    private readonly FrameView[] _frames;
    private readonly PacketMeta[] _meta;
    private readonly FrameView[][] _outFrames; // per egress past the first: frames the stage sent there this batch
    private readonly PacketMeta[][] _outMeta;
    private readonly int[] _outCount;
    private readonly long _packetLimit;
    private readonly int _spinPolls;
    private readonly Interop.Libc.PollFd* _waitFds; // The RX ports' readiness descriptors, or null: some port has none.
    private readonly int _waitCount;
    private readonly Interop.Libc.PollFd[]? _waitFdArray; // Pinned: keeps _waitFds alive.
    private Thread? _thread;
    private volatile bool _stop;
    private Exception? _failure;
    private long _baseline = -1;
    private bool _disposed;
    private int _reader;

    /// <summary>Creates a worker; nothing runs until <see cref="Start"/>.</summary>
    /// <param name="id">Worker number: its counters' index.</param>
    /// <param name="cpu">Core to pin to, or -1 to leave the thread to the scheduler.</param>
    /// <param name="bindings">RX port → stage → TX port paths this worker polls, in order.</param>
    /// <param name="pool">Pool the worker takes its RX frames from.</param>
    /// <param name="counters">Counters; the worker writes record <paramref name="id"/>.</param>
    /// <param name="batchSize">Frames per RX burst, 1–<see cref="TranslationStage.MaxBatch"/>.</param>
    /// <param name="packetLimit">Stop after this many received packets (0: run until <see cref="Stop"/>).</param>
    /// <param name="idle">What the worker does once its ports stay empty.</param>
    /// <param name="spinPolls">Empty polls before it sleeps or yields.</param>
    public Worker(int id, int cpu, IReadOnlyList<PortBinding> bindings, FramePool pool, Counters counters, int batchSize = DefaultBatchSize, long packetLimit = 0, WorkerIdle idle = WorkerIdle.Spin, int spinPolls = DefaultSpinPolls)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegative(spinPolls);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchSize, TranslationStage.MaxBatch);
        if (bindings.Count == 0)
        {
            throw new ArgumentException("a worker needs at least one RX port", nameof(bindings));
        }

        foreach (PortBinding binding in bindings)
        {
            if (binding.Stage.Table.Epoch != bindings[0].Stage.Table.Epoch)
            {
                throw new ArgumentException("all of a worker's stages must read tables of one epoch", nameof(bindings));
            }
        }

        if (pool.PayloadSlotSize <= RxHeadroom + 64)
        {
            throw new ArgumentException("payload slots are too small for a frame", nameof(pool));
        }

        _id = id;
        _cpu = cpu;
        _bindings = [.. bindings];
        _pool = pool;
        _counters = counters.For(id);
        _latency = counters.LatencyFor(id);
        _batchSize = batchSize;
        _packetLimit = packetLimit;
        _spinPolls = spinPolls;
        if (idle == WorkerIdle.Poll && bindings.All(b => b.Rx.ReadinessHandle >= 0))
        {
            _waitFdArray = GC.AllocateArray<Interop.Libc.PollFd>(bindings.Count, pinned: true);
            for (int b = 0; b < bindings.Count; b++)
            {
                _waitFdArray[b] = new Interop.Libc.PollFd { Fd = bindings[b].Rx.ReadinessHandle, Events = Interop.LinuxConstants.PollIn };
            }

            _waitFds = (Interop.Libc.PollFd*)Unsafe.AsPointer(ref _waitFdArray[0]);
            _waitCount = bindings.Count;
        }

        _frameIndices = new uint[batchSize];
        if (!pool.TryAllocateBulk(_frameIndices))
        {
            throw new InvalidOperationException($"worker {id}: the frame pool has fewer than {batchSize} free frames");
        }

        // The RX set is fixed for the worker's life: a frame's bytes leave it only by copy (a port's TX, a guest's
        // payload memory), so no frame the worker receives into is ever in memory another process maps.
        _rx = new RxBuffer[batchSize];
        for (int i = 0; i < batchSize; i++)
        {
            _rx[i] = new RxBuffer(pool.Payload(_frameIndices[i]) + RxHeadroom, pool.PayloadSlotSize - RxHeadroom);
        }

        int egresses = 1;
        foreach (PortBinding binding in bindings)
        {
            egresses = Math.Max(egresses, binding.Egresses.Length);
            binding.Rx.AttachDropCounters(_counters->Drops);
            foreach (PacketPort egress in binding.Egresses)
            {
                egress.AttachDropCounters(_counters->Drops);
            }
        }

        _frames = new FrameView[batchSize];
        _meta = new PacketMeta[batchSize];
        _outFrames = new FrameView[egresses][];
        _outMeta = new PacketMeta[egresses][];
        _outCount = new int[egresses];
        for (int e = 1; e < egresses; e++)
        {
            _outFrames[e] = new FrameView[batchSize];
            _outMeta[e] = new PacketMeta[batchSize];
        }
    }

    /// <summary>Worker number.</summary>
    public int Id => _id;

    /// <summary>Bytes the worker thread allocated inside its loop (0 is the contract); valid after it stopped.</summary>
    public long AllocatedBytesInLoop { get; private set; }

    /// <summary>CPU time the worker thread consumed in its loop (seconds), which on a shared machine is the honest cost figure.</summary>
    public double CpuSecondsInLoop { get; private set; }

    /// <summary>Whether the worker sleeps in poll(2) when idle (<see cref="WorkerIdle.Poll"/> asked, and every RX port can wake it).</summary>
    public bool Sleeps => _waitFds != null;

    /// <summary>True once the loop has exited (stopped, limit reached, or failed).</summary>
    public bool Finished => _thread is { IsAlive: false };

    /// <summary>Starts the worker thread.</summary>
    public void Start()
    {
        if (_thread is not null)
        {
            throw new InvalidOperationException($"worker {_id} already started");
        }

        _thread = new Thread(Run) { IsBackground = true, Name = $"fastpath-worker-{_id}" };
        _thread.Start();
    }

    /// <summary>Asks the loop to finish its current batch and exit; returns at once.</summary>
    public void Stop() => _stop = true;

    /// <summary>Waits for the thread; rethrows what made it fail, if anything did.</summary>
    public void Join()
    {
        _thread?.Join();
        if (_failure is not null)
        {
            throw new InvalidOperationException($"worker {_id} failed: {_failure.Message}", _failure);
        }
    }

    /// <summary>Stops, joins and returns the RX frames to the pool.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Stop();
        _thread?.Join();
        _pool.FreeBulk(_frameIndices);
    }

    private void Run()
    {
        try
        {
            if (_cpu >= 0)
            {
                CorePinning.PinCurrentThread(_cpu);
            }

            MappingEpoch epoch = _bindings[0].Stage.Table.Epoch;
            _reader = epoch.RegisterReader();
            long cpuStart = ThreadCpuNanoseconds();
            try
            {
                Loop(epoch);
            }
            finally
            {
                epoch.UnregisterReader(_reader);
                CpuSecondsInLoop = (ThreadCpuNanoseconds() - cpuStart) / 1e9;
            }

            AllocatedBytesInLoop = _baseline < 0 ? 0 : GC.GetAllocatedBytesForCurrentThread() - _baseline;
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // The first cause wins: the controller reads it in Join and decides whether to restart.
            _failure = error;
        }
    }

    // Stopwatch ticks are nanoseconds on Linux (clock_gettime(CLOCK_MONOTONIC)); the branch folds away there.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long TicksToNanoseconds(long ticks) =>
        Stopwatch.Frequency == 1_000_000_000 ? ticks : (long)(ticks * (1e9 / Stopwatch.Frequency));

    private static long ThreadCpuNanoseconds()
    {
        Interop.Libc.Timespec time;
        Interop.Errno.Check(Interop.Libc.ClockGettime(Interop.LinuxConstants.ClockThreadCputimeId, &time), "clock_gettime");
        return (time.Seconds * 1_000_000_000) + time.Nanoseconds;
    }

    // Entered once and never left while the worker runs, so tiered compilation could only ever optimise it by
    // on-stack replacement (the OSR body measured slower than a full compile, issue 18): compile it fully at once.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Loop(MappingEpoch epoch)
    {
        int reader = _reader;
        WorkerCounters* counters = _counters;
        int idle = 0;
        long idleSince = 0;
        while (!_stop)
        {
            bool busy = false;
            for (int b = 0; b < _bindings.Length; b++)
            {
                long start = Stopwatch.GetTimestamp();
                int received = PollOnce(_bindings[b], counters);
                if (received == 0)
                {
                    continue;
                }

                busy = true;
                long elapsed = Stopwatch.GetTimestamp() - start;
                counters->BusyTicks += elapsed;
                LatencyHistogram.Record(_latency, TicksToNanoseconds(elapsed));
                if (_baseline < 0 && counters->Batches >= WarmupBatches)
                {
                    _baseline = GC.GetAllocatedBytesForCurrentThread();
                }

                if (_packetLimit != 0 && counters->RxPackets >= _packetLimit)
                {
                    return;
                }
            }

            if (busy)
            {
                // Between batches the worker holds no pointer into any mapping table: the writer may free a swapped-out one.
                epoch.Quiescent(reader);
                if (idle != 0)
                {
                    counters->IdleTicks += Stopwatch.GetTimestamp() - idleSince;
                    idle = 0;
                }

                continue;
            }

            if (idle++ == 0)
            {
                idleSince = Stopwatch.GetTimestamp();
            }

            // Every idle poll is a quiescent point: a worker with no traffic must not hold up a table swap.
            epoch.Quiescent(reader);

            counters->IdlePolls++;
            if (idle <= _spinPolls)
            {
                Thread.SpinWait(16);
            }
            else if (_waitFds != null)
            {
                // idle stays past the spin: after a wake-up that found nothing (the timeout) the worker sleeps again at once.
                Sleep(epoch, reader);
            }
            else
            {
                Thread.Yield();
            }
        }
    }

    /// <summary>
    /// Sleeps in poll(2) until a port is readable or <see cref="IdleWaitMilliseconds"/> pass. Offline meanwhile: the
    /// worker holds no table pointer, so a table swap does not wait for it.
    /// </summary>
    private void Sleep(MappingEpoch epoch, int reader)
    {
        epoch.ReaderExit(reader);
        int ready = Interop.Libc.Poll(_waitFds, (nuint)_waitCount, IdleWaitMilliseconds);
        epoch.ReaderEnter(reader);
        if (ready < 0 && Marshal.GetLastPInvokeError() != Interop.LinuxConstants.EIntr)
        {
            Interop.Errno.Throw("poll", $"worker {_id}");
        }
    }

    /// <summary>One batch of one path: receive, translate, then one walk that counts drops and sorts frames by egress, then transmit.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int PollOnce(PortBinding binding, WorkerCounters* counters)
    {
        int received = binding.Rx.Receive(_rx.AsSpan(0, _batchSize), _frames.AsSpan(0, _batchSize));
        if (received == 0)
        {
            return 0;
        }

        ref FrameView frame0 = ref _frames[0];
        ref PacketMeta meta0 = ref _meta[0];
        long bytes = 0;
        for (int i = 0; i < received; i++)
        {
            bytes += Unsafe.Add(ref frame0, i).Length;
        }

        counters->RxPackets += received;
        counters->RxBytes += bytes;
        counters->Batches++;

        // The capture costs one predictable branch per batch while none is attached.
        if (Volatile.Read(ref _capture) is { } capture)
        {
            ProcessCaptured(binding, capture, received);
        }
        else
        {
            binding.Stage.Process(_frames.AsSpan(0, received), _meta.AsSpan(0, received));
        }

        // Frames for the path's own port are compacted in place (no copy while nothing was dropped); frames for a
        // guest go to that egress's list. One pass, no type tests: a guest is a port like any other.
        long* drops = counters->Drops;
        PacketPort[] egresses = binding.Egresses;
        int kept = 0;
        long keptBytes = 0;
        bool routed = false;
        for (int i = 0; i < received; i++)
        {
            ref PacketMeta meta = ref Unsafe.Add(ref meta0, i);
            DropReason verdict = meta.Verdict;
            if (verdict != DropReason.None)
            {
                drops[(int)verdict]++;
                continue;
            }

            int egress = meta.Egress;
            if (egress == 0)
            {
                if (kept != i)
                {
                    Unsafe.Add(ref frame0, kept) = Unsafe.Add(ref frame0, i);
                    Unsafe.Add(ref meta0, kept) = meta;
                }

                keptBytes += Unsafe.Add(ref frame0, kept).Length;
                kept++;
                continue;
            }

            if ((uint)egress >= (uint)egresses.Length)
            {
                // A stage that routes to guests this path does not have is a wiring fault; never send it elsewhere.
                drops[(int)DropReason.Unsupported]++;
                continue;
            }

            int n = _outCount[egress]++;
            _outFrames[egress][n] = Unsafe.Add(ref frame0, i);
            _outMeta[egress][n] = meta;
            routed = true;
        }

        if (kept != 0)
        {
            Send(egresses[0], _frames.AsSpan(0, kept), _meta.AsSpan(0, kept), keptBytes, counters);
        }

        if (routed)
        {
            SendRouted(egresses, counters);
        }

        return received;
    }

    /// <summary>Transmits the batch's frames for guests (egresses past the first), each list in one call.</summary>
    private void SendRouted(PacketPort[] egresses, WorkerCounters* counters)
    {
        for (int e = 1; e < egresses.Length; e++)
        {
            int count = _outCount[e];
            if (count == 0)
            {
                continue;
            }

            _outCount[e] = 0;
            Span<FrameView> frames = _outFrames[e].AsSpan(0, count);
            long bytes = 0;
            foreach (FrameView frame in frames)
            {
                bytes += frame.Length;
            }

            Send(egresses[e], frames, _outMeta[e].AsSpan(0, count), bytes, counters);
        }
    }

    /// <summary>One transmit; a port that takes fewer frames than offered drops and counts the rest as TX-full, never blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Send(PacketPort port, Span<FrameView> frames, Span<PacketMeta> meta, long bytes, WorkerCounters* counters)
    {
        int sent = port.Transmit(frames, meta);
        if (sent != frames.Length)
        {
            bytes = 0;
            for (int i = 0; i < sent; i++)
            {
                bytes += frames[i].Length;
            }

            counters->Drops[(int)DropReason.TxFull] += frames.Length - sent;
        }

        counters->TxPackets += sent;
        counters->TxBytes += bytes;
    }
}
