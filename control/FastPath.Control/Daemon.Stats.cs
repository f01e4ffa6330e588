using System.Diagnostics;
using FastPath.Control.Stats;
using FastPath.Dataplane;
using FastPath.Dataplane.Pipeline;

namespace FastPath.Control;

/// <summary>Statistics: a timer samples the counters every second for rates (and nothing else); snapshots read fresh totals.</summary>
public sealed partial class Daemon
{
    private readonly Lock _sampleLock = new();
    private CounterSample? _previous;
    private CounterSample? _latest;
    private bool[]? _outputFailureSaid;

    private sealed record CounterSample(long Timestamp, IReadOnlyList<PortTotals> Ports, WorkerCounters[] Workers);

    private void Sample()
    {
        RunningPipeline? pipeline = _pipeline;
        if (pipeline is null)
        {
            return;
        }

        CounterSample sample = Read(pipeline);
        lock (_sampleLock)
        {
            _previous = _latest;
            _latest = sample;
        }

        SayFailedOutputs(sample.Ports);
        NotifyStatus();
    }

    /// <summary>Once per port, when its output has started failing (a pcap FIFO whose reader left): forwarding goes on.
    /// Called by the sampler and once more after the workers stop, so a failure in the last second is said too.</summary>
    private void SayFailedOutputs(IReadOnlyList<PortTotals> ports)
    {
        lock (_sampleLock)
        {
            _outputFailureSaid ??= new bool[ports.Count];
            for (int i = 0; i < ports.Count; i++)
            {
                if (ports[i].TxErrors > 0 && !_outputFailureSaid[i])
                {
                    _outputFailureSaid[i] = true;
                    _log.WriteLine($"fastpath: port {ports[i].Name}: its output failed; frames sent to it are counted as tx_errors");
                }
            }
        }
    }

    private static CounterSample Read(RunningPipeline pipeline)
    {
        // Ports first: reading their totals fetches the kernel's statistics, whose ring drops the workers' rows show.
        IReadOnlyList<PortTotals> ports = pipeline.PortTotals();
        var workers = new WorkerCounters[pipeline.WorkerCount];
        for (int w = 0; w < workers.Length; w++)
        {
            workers[w] = pipeline.ReadWorker(w);
        }

        return new CounterSample(Stopwatch.GetTimestamp(), ports, workers);
    }

    /// <summary>A <see cref="Snapshot()"/>, or null once the daemon is stopping (the meter's listeners may still ask).</summary>
    private StatsSnapshot? SnapshotOrNull() => _pipeline is { } pipeline ? Snapshot(pipeline) : null;

    /// <summary>Fresh totals, with rates over the last completed sampling interval.</summary>
    private StatsSnapshot Snapshot() => Snapshot(_pipeline ?? throw new InvalidOperationException("the daemon is stopping"));

    private StatsSnapshot Snapshot(RunningPipeline pipeline)
    {
        CounterSample now = Read(pipeline);
        CounterSample? from;
        CounterSample? to;
        lock (_sampleLock)
        {
            from = _previous;
            to = _latest;
        }

        double seconds = from is null || to is null ? 0 : Stopwatch.GetElapsedTime(from.Timestamp, to.Timestamp).TotalSeconds;
        var ports = new List<PortStats>();
        for (int i = 0; i < now.Ports.Count; i++)
        {
            PortTotals p = now.Ports[i];
            Rates rates = from is null || to is null
                ? default
                : Rates.Between(from.Ports[i].RxPackets, from.Ports[i].RxBytes, from.Ports[i].TxPackets, from.Ports[i].TxBytes,
                    to.Ports[i].RxPackets, to.Ports[i].RxBytes, to.Ports[i].TxPackets, to.Ports[i].TxBytes, seconds);
            ports.Add(new PortStats(p.Name, p.Side == PortSide.User ? "user" : "secure", p.Instances, p.RxPackets, p.RxBytes, p.TxPackets, p.TxBytes, p.KernelDrops, rates) { TxErrors = p.TxErrors });
        }

        var workers = new List<WorkerStats>();
        for (int w = 0; w < now.Workers.Length; w++)
        {
            WorkerCounters c = now.Workers[w];
            var drops = new long[DropReasons.Count];
            for (int reason = 0; reason < drops.Length; reason++)
            {
                drops[reason] = Counters.Dropped(c, (DropReason)reason);
            }

            Rates rates = default;
            double busy = 0;
            if (from is not null && to is not null)
            {
                WorkerCounters a = from.Workers[w];
                WorkerCounters b = to.Workers[w];
                rates = Rates.Between(a.RxPackets, a.RxBytes, a.TxPackets, a.TxBytes, b.RxPackets, b.RxBytes, b.TxPackets, b.TxBytes, seconds);
                double ticks = seconds * Stopwatch.Frequency;
                busy = ticks <= 0 ? 0 : Math.Clamp((b.BusyTicks - a.BusyTicks) / ticks, 0, 1);
            }

            workers.Add(new WorkerStats(w, _config.Cores[w], c.RxPackets, c.RxBytes, c.TxPackets, c.TxBytes, drops, busy, rates)
            {
                BatchLatency = pipeline.Counters.ReadLatency(w),
            });
        }

        string vtpm = _config.Vtpm is { } v ? $"{(v.Pair ? "pair" : "single")} {VtpmWhere(v)}" : "off";
        return new StatsSnapshot(_uptime.Elapsed.TotalSeconds, seconds, ports, workers, _table.Count, _table.Capacity, Interlocked.Read(ref _mapUpdates), vtpm,
            PairStatusJson: null, RuntimeStats.Now(), _follower?.Status);
    }
}
