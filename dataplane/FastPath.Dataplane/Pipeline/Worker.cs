using System.Diagnostics;
using System.Runtime.CompilerServices;
using FastPath.Dataplane.Guest;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Dataplane.Pipeline;

/// <summary>
/// A data-plane worker: one dedicated thread, optionally pinned to one core, busy-polling its RX ports in
/// batches — receive, translate (parse, bulk lookup, rewrite), transmit — and backing off only when idle.
/// </summary>
/// <remarks>
/// The steady-state loop allocates nothing, takes no lock and throws nothing: every buffer is sized at
/// construction, the RX frames are a fixed set taken from the pool once (kernel and in-memory ports copy out of
/// them on TX, so they are free again as soon as TX returns) and dispatch through <see cref="PacketPort"/> is per
/// batch. <see cref="AllocatedBytesInLoop"/> records what the loop allocated, for the zero-allocation test.
/// Concurrency: <see cref="Start"/>, <see cref="Stop"/> and <see cref="Dispose"/> are for one controlling thread;
/// the counters are read from anywhere (<see cref="Counters"/>).
/// </remarks>
internal sealed unsafe class Worker : IDisposable
{
    /// <summary>Default frames per batch: enough to amortise dispatch and overlap lookups, small enough for L1.</summary>
    public const int DefaultBatchSize = 64;

    // Packets start this far into the payload slot, so a VLAN push (4 bytes) never leaves the slot.
    private const int RxHeadroom = 64;

    // Batches before the allocation baseline is taken: first calls run static constructors (keyed hash seed,
    // ISA detection), which allocate once and are not the steady state.
    private const int WarmupBatches = 64;

    // Empty polls before the worker stops spinning and yields the core or sleeps in poll(2).
    private const int SpinPolls = 256;

    private readonly int _id;
    private readonly int _cpu;
    private readonly PortBinding[] _bindings;
    private readonly FramePool _pool;
    private readonly WorkerCounters* _counters;
    private readonly int _batchSize;
    private readonly uint[] _frameIndices;
    private readonly RxBuffer[] _rx;
    private readonly int[] _lengths;
    private readonly FrameView[] _frames;
    private readonly PacketMeta[] _meta;
    private readonly FrameView[] _tx;
    private readonly long _packetLimit;
    private readonly GuestPort[] _guests;
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
    public Worker(int id, int cpu, IReadOnlyList<PortBinding> bindings, FramePool pool, Counters counters, int batchSize = DefaultBatchSize, long packetLimit = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
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
        _batchSize = batchSize;
        _packetLimit = packetLimit;
        _frameIndices = new uint[batchSize];
        if (!pool.TryAllocateBulk(_frameIndices))
        {
            throw new InvalidOperationException($"worker {id}: the frame pool has fewer than {batchSize} free frames");
        }

        _rx = new RxBuffer[batchSize];
        for (int i = 0; i < batchSize; i++)
        {
            _rx[i] = new RxBuffer(pool.Payload(_frameIndices[i]) + RxHeadroom, pool.PayloadSlotSize - RxHeadroom);
        }

        // A guest port polled by this worker is also where this worker's secure→user packets for the guest's
        // (tenant, address) go: one thread produces into its RX ring, and counts its refusals here.
        var guests = new List<GuestPort>();
        foreach (PortBinding binding in bindings)
        {
            if (binding.Tx is GuestPort)
            {
                throw new ArgumentException($"guest port {binding.Tx.Name} cannot be a binding's TX port: the worker routes packets to it by address", nameof(bindings));
            }

            if (binding.Rx is GuestPort guest && !guests.Contains(guest))
            {
                guest.UseCounters(_counters->Drops);
                guests.Add(guest);
            }
        }

        _guests = [.. guests];
        _lengths = new int[batchSize];
        _frames = new FrameView[batchSize];
        _meta = new PacketMeta[batchSize];
        _tx = new FrameView[batchSize];
    }

    /// <summary>Worker number.</summary>
    public int Id => _id;

    /// <summary>Bytes the worker thread allocated inside its loop (0 is the contract); valid after it stopped.</summary>
    public long AllocatedBytesInLoop { get; private set; }

    /// <summary>CPU time the worker thread consumed in its loop (seconds), which on a shared machine is the honest cost figure.</summary>
    public double CpuSecondsInLoop { get; private set; }

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

    private static long ThreadCpuNanoseconds()
    {
        Interop.Libc.Timespec time;
        Interop.Errno.Check(Interop.Libc.ClockGettime(Interop.LinuxConstants.ClockThreadCputimeId, &time), "clock_gettime");
        return (time.Seconds * 1_000_000_000) + time.Nanoseconds;
    }

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
                counters->BusyTicks += Stopwatch.GetTimestamp() - start;
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
            if (idle > SpinPolls)
            {
                Thread.Yield();
            }
            else
            {
                Thread.SpinWait(16);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int PollOnce(PortBinding binding, WorkerCounters* counters)
    {
        int received = binding.Rx.Receive(_rx.AsSpan(0, _batchSize), _lengths);
        if (received == 0)
        {
            return 0;
        }

        ref RxBuffer rx0 = ref _rx[0];
        ref int length0 = ref _lengths[0];
        ref FrameView frame0 = ref _frames[0];
        long bytes = 0;
        for (int i = 0; i < received; i++)
        {
            int length = Unsafe.Add(ref length0, i);
            Unsafe.Add(ref frame0, i) = new FrameView(Unsafe.Add(ref rx0, i).Data, length);
            bytes += length;
        }

        counters->RxPackets += received;
        counters->RxBytes += bytes;
        counters->Batches++;

        binding.Stage.Process(_frames.AsSpan(0, received), _meta.AsSpan(0, received));

        ref PacketMeta meta0 = ref _meta[0];
        ref FrameView tx0 = ref _tx[0];
        long* drops = counters->Drops;
        int kept = 0;
        long txBytes = 0;
        bool toGuests = _guests.Length != 0 && binding.Stage.Direction == TranslationDirection.SecureToUser;
        for (int i = 0; i < received; i++)
        {
            ref PacketMeta meta = ref Unsafe.Add(ref meta0, i);
            DropReason verdict = meta.Verdict;
            if (verdict != DropReason.None)
            {
                drops[(int)verdict]++;
                continue;
            }

            FrameView frame = Unsafe.Add(ref frame0, i);
            if (toGuests && RouteToGuest(i, frame, ref meta, counters))
            {
                continue;
            }

            Unsafe.Add(ref tx0, kept++) = frame;
            txBytes += frame.Length;
        }

        if (toGuests)
        {
            FlushGuests(counters);
        }

        if (kept != 0)
        {
            int sent = binding.Tx.Transmit(_tx.AsSpan(0, kept));
            if (sent != kept)
            {
                // A full TX queue drops and counts, never blocks (the rest of the batch is not retried).
                txBytes = 0;
                for (int i = 0; i < sent; i++)
                {
                    txBytes += Unsafe.Add(ref tx0, i).Length;
                }

                drops[(int)DropReason.TxFull] += kept - sent;
            }

            counters->TxPackets += sent;
            counters->TxBytes += txBytes;
        }

        return received;
    }

    /// <summary>
    /// If a guest port owns the packet's translated (tenant, destination), moves the frame to that guest and puts a
    /// fresh pool frame into RX slot <paramref name="slot"/>; returns false when no guest owns it (it goes to the user port).
    /// A guest that is absent, full, or a pool with no frame to spare drops the packet as TX-full.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool RouteToGuest(int slot, FrameView frame, ref PacketMeta meta, WorkerCounters* counters)
    {
        GuestPort[] guests = _guests;
        for (int g = 0; g < guests.Length; g++)
        {
            GuestPort guest = guests[g];
            if (!guest.Matches(frame.Data, in meta))
            {
                continue;
            }

            if (!guest.CanTake(in meta) || !_pool.TryAllocate(out uint fresh))
            {
                counters->Drops[(int)DropReason.TxFull]++;
                return true;
            }

            uint frameIndex = _frameIndices[slot];
            _frameIndices[slot] = fresh;
            _rx[slot] = new RxBuffer(_pool.Payload(fresh) + RxHeadroom, _pool.PayloadSlotSize - RxHeadroom);
            guest.Post(frameIndex, frame.Data, in meta);
            counters->TxPackets++;
            counters->TxBytes += frame.Length;
            return true;
        }

        return false;
    }

    private void FlushGuests(WorkerCounters* counters)
    {
        GuestPort[] guests = _guests;
        for (int g = 0; g < guests.Length; g++)
        {
            int lost = guests[g].Flush();
            if (lost != 0)
            {
                counters->TxPackets -= lost;
                counters->Drops[(int)DropReason.TxFull] += lost;
            }
        }
    }
}
