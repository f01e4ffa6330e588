using System.Diagnostics;
using System.Globalization;
using FastPath.Control.Systemd;
using FastPath.Dataplane.Pipeline;

namespace FastPath.Control;

/// <summary>
/// systemd integration (<c>Type=notify</c>): <c>READY=1</c> once ports are open and workers run, <c>STATUS=</c> every
/// second with packets/s and mappings, <c>WATCHDOG=1</c> only while every worker makes progress, <c>STOPPING=1</c>
/// when the drain begins. Without <c>$NOTIFY_SOCKET</c> none of it runs.
/// </summary>
public sealed partial class Daemon
{
    private readonly Lock _notifyLock = new();
    private SystemdNotifier? _notifier;
    private Timer? _watchdog;
    private TimeSpan _watchdogPeriod;
    private long[] _progress = [];
    private bool _wedgeLogged;

    private void StartNotifications()
    {
        SystemdNotifier? notifier = SystemdNotifier.FromEnvironment(Environment.GetEnvironmentVariable, Environment.ProcessId);
        if (notifier is null)
        {
            return;
        }

        // Children (the vTPM pair's instances are this binary) must not speak for the service.
        Environment.SetEnvironmentVariable("NOTIFY_SOCKET", null);
        Environment.SetEnvironmentVariable("WATCHDOG_USEC", null);
        Environment.SetEnvironmentVariable("WATCHDOG_PID", null);
        lock (_notifyLock)
        {
            _notifier = notifier;
        }

        notifier.Send("READY=1\n" + StatusLine());
        if (notifier.WatchdogInterval is TimeSpan interval)
        {
            // Half the timeout, as sd_watchdog_enabled(3) advises: one late tick does not restart the service, two do.
            _watchdogPeriod = interval / 2;
            _progress = new long[_pipeline!.WorkerCount];
            Array.Fill(_progress, -1);
            _watchdog = new Timer(_ => WatchdogTick(), null, _watchdogPeriod, Timeout.InfiniteTimeSpan);
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fastpath: systemd watchdog: {interval.TotalMilliseconds:0} ms, checked every {_watchdogPeriod.TotalMilliseconds:0} ms"));
        }
    }

    private void WatchdogTick()
    {
        RunningPipeline? pipeline = _pipeline;
        SystemdNotifier? notifier = _notifier;
        if (pipeline is null || notifier is null)
        {
            return;
        }

        // A worker makes progress when it processed a batch or polled and found nothing since the last tick; one that
        // is stuck (a port blocking in Receive, a livelock, a dead thread) does neither, and then no ping is sent.
        int stuck = -1;
        foreach (int worker in pipeline.WorkerIds)
        {
            WorkerCounters counters = pipeline.Counters.Read(worker);
            long mark = counters.Batches + counters.IdlePolls;
            if (mark == _progress[worker])
            {
                stuck = worker;
            }

            _progress[worker] = mark;
        }

        if (stuck < 0)
        {
            notifier.Send("WATCHDOG=1");
            _wedgeLogged = false;
        }
        else if (!_wedgeLogged)
        {
            _wedgeLogged = true;
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fastpath: worker {stuck} made no progress for {_watchdogPeriod.TotalMilliseconds:0} ms; withholding the systemd watchdog ping"));
        }

        lock (_notifyLock)
        {
            _watchdog?.Change(_watchdogPeriod, Timeout.InfiniteTimeSpan);
        }
    }

    private void NotifyStatus() => _notifier?.Send(StatusLine());

    private void NotifyStopping() => _notifier?.Send("STOPPING=1\nSTATUS=draining and stopping");

    private string StatusLine()
    {
        CounterSample? from;
        CounterSample? to;
        lock (_sampleLock)
        {
            from = _previous;
            to = _latest;
        }

        double pps = 0;
        if (from is not null && to is not null && to.Timestamp > from.Timestamp)
        {
            long packets = 0;
            for (int w = 0; w < to.Workers.Length; w++)
            {
                packets += to.Workers[w].RxPackets - from.Workers[w].RxPackets;
            }

            pps = packets / Stopwatch.GetElapsedTime(from.Timestamp, to.Timestamp).TotalSeconds;
        }

        return string.Create(CultureInfo.InvariantCulture, $"STATUS=forwarding {pps:0} packets/s, {_table.Count} mapping(s)");
    }

    private void StopNotifications()
    {
        lock (_notifyLock)
        {
            _watchdog?.Dispose();
            _watchdog = null;
            _notifier?.Dispose();
            _notifier = null;
        }
    }
}
