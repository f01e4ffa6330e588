using System.Diagnostics;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Ports;

namespace FastPath.Dataplane.Pipeline;

/// <summary>The workers and ports a <see cref="PipelineBuilder"/> made: start, read counters, drain and stop.</summary>
/// <remarks>
/// Concurrency: <see cref="Start"/>, <see cref="Stop"/> and <see cref="Dispose"/> belong to one controlling thread;
/// <see cref="Counters"/>, <see cref="PortTotals"/> and <see cref="Ports"/> may be read from any thread while the
/// workers run (the counters' own contract).
/// </remarks>
public sealed class RunningPipeline : IDisposable
{
    private readonly List<Worker> _workers;
    private readonly List<PortInstance> _ports;
    private readonly FramePool _pool;
    private bool _started;
    private volatile bool _stopped;
    private readonly TaskCompletionSource<string> _workerFailure = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal RunningPipeline(List<Worker> workers, List<PortInstance> ports, FramePool pool, Counters counters)
    {
        _workers = workers;
        _ports = ports;
        _pool = pool;
        Counters = counters;
    }

    /// <summary>One opened port instance and the worker that owns it.</summary>
    internal sealed record PortInstance(string Name, PortSide Side, int Worker, PacketPort Port);

    /// <summary>Per-worker counters (index = worker number; workers without a port stay at zero).</summary>
    public Counters Counters { get; }

    /// <summary>Configured worker count.</summary>
    public int WorkerCount => Counters.Workers;

    /// <summary>Numbers of the workers that have a thread (a worker with no port has none and its counters stay at zero).</summary>
    public IReadOnlyList<int> WorkerIds => [.. _workers.Select(w => w.Id)];

    /// <summary>The distinct port names, in configuration order.</summary>
    public IReadOnlyList<string> Ports => [.. _ports.Select(p => p.Name).Distinct()];

    /// <summary>
    /// Attaches <paramref name="capture"/> to every worker (null detaches): each takes it up at its next batch. After a
    /// detach a worker may still finish one batch into the old session's rings; the session stays valid for that.
    /// </summary>
    public void AttachCapture(Capture.CaptureSession? capture)
    {
        foreach (Worker worker in _workers)
        {
            worker.SetCapture(capture);
        }
    }

    /// <summary>Starts every worker thread.</summary>
    public void Start()
    {
        if (_started)
        {
            throw new InvalidOperationException("the pipeline is already started");
        }

        _started = true;
        foreach (Worker worker in _workers)
        {
            worker.Start();
            Watch(worker);
        }
    }

    /// <summary>Whether every worker's loop has ended (a packet limit reached, a stop, a failure).</summary>
    public bool Finished => _workers.TrueForAll(w => w.Finished);

    /// <summary>Bytes the workers' loops allocated after their warm-up (the zero-allocation proof); read after <see cref="Stop"/>.</summary>
    public long AllocatedBytesInLoop => _workers.Sum(w => w.AllocatedBytesInLoop);

    /// <summary>CPU time the workers' loops used, summed; read after <see cref="Stop"/>.</summary>
    public double CpuSecondsInLoop => _workers.Sum(w => w.CpuSecondsInLoop);

    /// <summary>
    /// Completes, with what happened, when a worker's loop fails (an exception out of a port or the stage) while the
    /// pipeline should run. Never completes for a pipeline that is stopped on purpose or runs to its packet limit.
    /// </summary>
    public Task<string> WorkerFailure => _workerFailure.Task;

    // One parked thread per worker waits for its loop to end, so a failure is seen the moment it happens rather than
    // at the next statistics sample (and the statistics timer is only statistics).
    private void Watch(Worker worker)
    {
        var watcher = new Thread(() =>
        {
            try
            {
                // A loop ends cleanly only when asked to (Stop) or at its packet limit: neither is a failure.
                worker.Join();
            }
            catch (InvalidOperationException failure)
            {
                if (!_stopped)
                {
                    _workerFailure.TrySetResult(failure.Message);
                }
            }
        })
        { IsBackground = true, Name = $"fastpath-watch-{worker.Id}" };
        watcher.Start();
    }

    /// <summary>
    /// Drains, then stops: waits until no worker has received anything for <paramref name="quiet"/> (or
    /// <paramref name="drainLimit"/> has passed), so frames already in the RX rings are forwarded, then asks every
    /// worker to finish its batch and joins them. Returns the first worker failure, if any.
    /// </summary>
    public Exception? Stop(TimeSpan quiet, TimeSpan drainLimit)
    {
        if (!_started || _stopped)
        {
            return null;
        }

        _stopped = true;
        var limit = Stopwatch.StartNew();
        long last = Counters.Total().RxPackets;
        var still = Stopwatch.StartNew();
        while (limit.Elapsed < drainLimit && still.Elapsed < quiet)
        {
            Thread.Sleep(5);
            long now = Counters.Total().RxPackets;
            if (now != last)
            {
                last = now;
                still.Restart();
            }
        }

        foreach (Worker worker in _workers)
        {
            worker.Stop();
        }

        Exception? first = null;
        foreach (Worker worker in _workers)
        {
            try
            {
                worker.Join();
            }
            catch (InvalidOperationException failure)
            {
                first ??= failure;
            }
        }

        return first;
    }

    /// <summary>
    /// Worker <paramref name="worker"/>'s counters, with the frames the kernel dropped at the full RX rings of the ports
    /// it polls as <see cref="DropReason.RxRingFull"/> drops: the kernel's statistics as of the last
    /// <see cref="PortTotals"/> (which fetches them), so the worker never makes the syscall.
    /// </summary>
    public unsafe WorkerCounters ReadWorker(int worker)
    {
        WorkerCounters counters = Counters.Read(worker);
        long kernelDrops = 0;
        foreach (PortInstance instance in _ports)
        {
            if (instance.Worker == worker)
            {
                kernelDrops += instance.Port.Counters.KernelDrops;
            }
        }

        counters.Drops[(int)DropReason.RxRingFull] = kernelDrops;
        return counters;
    }

    /// <summary>Totals of every port, summed over its instances; AF_PACKET kernel statistics are fetched first.</summary>
    public IReadOnlyList<PortTotals> PortTotals()
    {
        var totals = new List<PortTotals>();
        foreach (string name in Ports)
        {
            PortSide side = PortSide.User;
            int instances = 0;
            long rxPackets = 0, rxBytes = 0, txPackets = 0, txBytes = 0, kernelDrops = 0, txErrors = 0;
            foreach (PortInstance instance in _ports)
            {
                if (instance.Name != name)
                {
                    continue;
                }

                side = instance.Side;
                instances++;
                PortCounters counters = instance.Port.Counters;
                instance.Port.RefreshCounters();
                rxPackets += counters.RxPackets;
                rxBytes += counters.RxBytes;
                txPackets += counters.TxPackets;
                txBytes += counters.TxBytes;
                kernelDrops += counters.KernelDrops;
                txErrors += counters.TxErrors;
            }

            totals.Add(new PortTotals(name, side, instances, rxPackets, rxBytes, txPackets, txBytes, kernelDrops) { TxErrors = txErrors });
        }

        return totals;
    }

    /// <summary>Stops (without draining) and releases workers, ports and frames.</summary>
    public void Dispose()
    {
        foreach (Worker worker in _workers)
        {
            worker.Dispose();
        }

        foreach (PortInstance instance in _ports)
        {
            instance.Port.Dispose();
        }

        Counters.Dispose();
        _pool.Dispose();
    }
}
