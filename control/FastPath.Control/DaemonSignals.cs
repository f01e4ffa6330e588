using System.Runtime.InteropServices;

namespace FastPath.Control;

/// <summary>
/// The daemon's signal handlers, installed before anything else happens (before the configuration is read): a
/// SIGHUP's default action is to end the process, and a supervisor or an operator may send one the moment the
/// daemon starts. Until a <see cref="Daemon"/> is attached, SIGHUP is logged and ignored (the maps file is being
/// loaded anyway) and SIGTERM/SIGINT are remembered, so the daemon stops as soon as it has started.
/// </summary>
/// <remarks>Thread-safe: handlers run on the runtime's signal thread; <see cref="Attach"/> on the daemon's.</remarks>
public sealed class DaemonSignals : IDisposable
{
    private readonly TextWriter _log;
    private readonly PosixSignalRegistration[] _registrations;
    private readonly Lock _lock = new();
    private Daemon? _daemon;
    private PosixSignal? _stopRequested;

    private DaemonSignals(TextWriter log)
    {
        _log = log;
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnHangup),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnStop),
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnStop),
        ];
    }

    /// <summary>Installs the handlers now; log lines go to <paramref name="log"/>.</summary>
    public static DaemonSignals Install(TextWriter log) => new(log);

    /// <summary>From now on signals act on <paramref name="daemon"/>; a stop asked for while starting is passed on.</summary>
    public void Attach(Daemon daemon)
    {
        PosixSignal? stop;
        lock (_lock)
        {
            _daemon = daemon;
            stop = _stopRequested;
        }

        if (stop is { } signal)
        {
            daemon.RequestStop(signal.ToString());
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (PosixSignalRegistration registration in _registrations)
        {
            registration.Dispose();
        }
    }

    private void OnHangup(PosixSignalContext context)
    {
        context.Cancel = true;
        Daemon? daemon;
        lock (_lock)
        {
            daemon = _daemon;
        }

        if (daemon is null)
        {
            _log.WriteLine("fastpath: SIGHUP while starting: ignored (the maps file is being loaded now)");
            return;
        }

        daemon.ReloadFromSignal();
    }

    private void OnStop(PosixSignalContext context)
    {
        context.Cancel = true;
        Daemon? daemon;
        lock (_lock)
        {
            _stopRequested ??= context.Signal;
            daemon = _daemon;
        }

        _log.WriteLine($"fastpath: {context.Signal}: draining and stopping");
        daemon?.RequestStop(context.Signal.ToString());
    }
}
