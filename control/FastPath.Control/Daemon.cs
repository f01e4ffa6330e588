using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using FastPath.Control.Config;
using FastPath.Control.ControlSocket;
using FastPath.Control.Maps;
using FastPath.Control.Metrics;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;
using FastPath.Vtpm;

namespace FastPath.Control;

/// <summary>
/// <c>fastpath run</c>: loads the maps, opens the ports, starts the workers, then serves the control socket,
/// the optional metrics endpoint and the optional vTPM until SIGTERM/SIGINT (drain, stop) — SIGHUP re-reads the
/// maps file. The control plane only ever publishes to the mapping table; workers never wait on it.
/// </summary>
/// <remarks>
/// Concurrency: <see cref="Start"/>, <see cref="Run"/> and <see cref="Dispose"/> belong to the thread that runs
/// the daemon; control requests, signals and the sampling timer call in from pool threads, and map writes among
/// them are serialized by <see cref="_mapWriter"/>.
/// </remarks>
public sealed partial class Daemon : IDisposable
{
    private static readonly TimeSpan s_drainQuiet = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_drainLimit = TimeSpan.FromSeconds(2);

    private readonly DaemonConfig _config;
    private readonly TextWriter _log;
    private readonly MappingTable _table;
    private readonly SemaphoreSlim _mapWriter = new(1, 1);
    private readonly TaskCompletionSource<StopCause> _stop = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stopwatch _uptime = Stopwatch.StartNew();
    private RunningPipeline? _pipeline;
    private ControlServer? _control;
    private MetricsServer? _metrics;
    private FastPathMeter? _meter;
    private VtpmHost? _vtpm;
    private Timer? _sampler;
    private long _mapUpdates;
    private bool _ownsSocket;

    private Daemon(DaemonConfig config, MappingTable table, TextWriter log)
    {
        _config = config;
        _table = table;
        _log = log;
    }

    /// <summary>The endpoint the metrics server is bound to, or null.</summary>
    public IPEndPoint? MetricsEndPoint => _metrics?.LocalEndPoint;

    /// <summary>Loads the maps, opens ports, starts workers, control socket, metrics and vTPM.</summary>
    /// <exception cref="InputFileException">The maps file is invalid.</exception>
    public static Daemon Start(DaemonConfig config, TextWriter log)
    {
        MappingEntry[] entries = config.MapsFile is null ? [] : MapsFile.Load(config.MapsFile);
        MappingTable table = MapsPublisher.Build(entries);
        var daemon = new Daemon(config, table, log);
        try
        {
            int fleet = daemon.StartFleet();
            daemon.StartParts(entries.Length + fleet);
            return daemon;
        }
        catch (Exception)
        {
            daemon.Dispose();
            throw;
        }
    }

    /// <summary>Waits for SIGTERM/SIGINT (or a worker failure), drains and stops; SIGHUP reloads the maps. Returns the exit code.</summary>
    /// <param name="signals">Handlers installed before the daemon started (<c>fastpath run</c> installs them first
    /// thing); null installs them now.</param>
    public int Run(DaemonSignals? signals = null)
    {
        using DaemonSignals? owned = signals is null ? DaemonSignals.Install(_log) : null;
        (signals ?? owned!).Attach(this);
        StopCause cause = _stop.Task.GetAwaiter().GetResult();
        if (cause.ExitCode != 0)
        {
            _log.WriteLine($"fastpath: {cause.Reason}");
        }

        NotifyStopping();
        return StopAll() ?? cause.ExitCode;
    }

    /// <summary>SIGHUP: re-reads the configured maps file in the background.</summary>
    internal void ReloadFromSignal() => _ = Task.Run(ReloadFromSignalAsync);

    /// <summary>
    /// Asks <see cref="Run"/> to drain and return <paramref name="exitCode"/>. The first cause wins: a signal that
    /// arrives while a failed worker is being shut down does not turn exit 1 into 0, nor the reverse.
    /// </summary>
    /// <param name="reason">What asked, as the log says it (<c>SIGTERM</c>, <c>worker 0 failed: …</c>).</param>
    /// <param name="exitCode">The exit code <see cref="Run"/> returns unless stopping itself fails.</param>
    public void RequestStop(string reason, int exitCode = 0) => _stop.TrySetResult(new StopCause(reason, exitCode));

    /// <summary>Why the daemon stops: the first request, named.</summary>
    private sealed record StopCause(string Reason, int ExitCode);

    /// <inheritdoc />
    public void Dispose()
    {
        StopAll();
        _table.Dispose();
        _mapWriter.Dispose();
    }

    private void StartParts(int mappings)
    {
        // Workers are managed threads that every collection suspends, and the daemon runs the non-concurrent GC
        // (no background collector thread to keep off the worker cores), so there is no latency mode to ask for:
        // the control plane keeps its garbage small instead (maps load into structs) and stats show the pauses.
        var builder = new PipelineBuilder(_table).WithCores(_config.Cores).WithBatchSize(_config.BatchSize).WithIdle(_config.Idle, _config.IdleSpinPolls);
        int workers = _config.Cores.Count;
        foreach (PairConfig pair in _config.Pairs)
        {
            GuestPlan[] guests = [.. pair.Guests.Select(name => Port(name)).Select(g => new GuestPlan(g.Name, g.Socket!, (ushort)g.Tenant, g.Address!, g.MaxFrames))];
            builder.AddPair(Plan(Port(pair.User), workers), Plan(Port(pair.Secure), workers), guests);
        }

        // Only workers need their cores to themselves: a daemon without ports keeps every CPU for its threads.
        if (_config.Pairs.Count != 0 && _config.Cores.Any(c => c >= 0))
        {
            CorePinning.MoveOtherThreadsOff([.. _config.Cores.Where(c => c >= 0)]);
        }

        _pipeline = builder.Build();
        _pipeline.Start();
        _pipeline.WorkerFailure.ContinueWith(failure => RequestStop($"{failure.Result}; shutting down", 1), TaskScheduler.Default);
        _sampler = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromSeconds(1));

        if (_config.Vtpm is { } vtpm)
        {
            _vtpm = StartVtpm(vtpm);
        }

        _meter = new FastPathMeter(SnapshotOrNull);
        if (_config.Metrics is { } metrics)
        {
            _metrics = new MetricsServer(metrics, Snapshot);
            _metrics.Start();
        }

        _control = new ControlServer(HandleAsync);
        _control.Start(_config.Control);
        _ownsSocket = true;

        string metricsText = _metrics is null ? string.Empty : $"; metrics http://{_metrics.LocalEndPoint}/metrics";
        string vtpmText = _config.Vtpm is null ? string.Empty : $"; vtpm {_config.Vtpm.Endpoint}";
        string portsText = _pipeline.Ports.Count == 0
            ? "no ports (no data path: control, maps, metrics and vTPM only)"
            : $"{workers} worker(s), ports {string.Join(", ", _pipeline.Ports)}";
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fastpath: running: {portsText}, {mappings} mapping(s); control {_config.Control.Text}{metricsText}{vtpmText}"));
        StartNotifications();
    }

    private PortConfig Port(string name) => _config.Ports.First(p => p.Name == name);

    private static PortPlan Plan(PortConfig port, int workers)
    {
        byte[] peer = port.Peer ?? LocalMac(0xfe);
        switch (port.Kind)
        {
            case PortKind.AfPacket:
            {
                // One fanout group per interface and daemon: the id only has to differ from other processes' groups.
                int? group = workers > 1 ? (Environment.ProcessId + port.Interface!.GetHashCode(StringComparison.Ordinal)) & 0xFFFF : null;
                var defaults = new AfPacketOptions();
                var options = new AfPacketOptions
                {
                    FanoutGroup = group,
                    BlockCount = port.RingBlocks ?? defaults.BlockCount,
                    RxRing = port.RxRing ?? defaults.RxRing,
                    Mtu = port.Mtu,
                };
                byte[] mac = port.Mac ?? InterfaceMac(port.Interface!);
                return new PortPlan(port.Name, (_, _) => new AfPacketPort(port.Name, port.Interface!, options), PerWorker: true, mac, peer);
            }

            case PortKind.Tap:
                return new PortPlan(port.Name, (_, _) => new TapPort(port.Name, port.Interface!, port.Mtu), PerWorker: false, port.Mac ?? LocalMac(0x01), peer);
            case PortKind.Pcap:
                return new PortPlan(port.Name, (_, _) => new PcapPort(port.Name, port.Input, port.Output), PerWorker: false, port.Mac ?? LocalMac(0x02), peer)
                {
                    TransmitOnly = port.Input is null,
                };
            case PortKind.Generator:
                var spec = new GeneratorSpec(port.FrameSize, port.Flows, port.Mappings);
                return new PortPlan(port.Name, (w, n) => new GeneratorPort(port.Name, spec, w, n, Share(port.Packets, w, n)), PerWorker: true, port.Mac ?? LocalMac(0x03), peer);
            case PortKind.Sink:
                return new PortPlan(port.Name, (_, _) => new SinkPort(port.Name), PerWorker: true, port.Mac ?? LocalMac(0x04), peer) { TransmitOnly = true };
            default:
                throw new InvalidOperationException($"port {port.Name}: a {port.Kind} port is opened through its pair, not as a user or secure port");
        }
    }

    /// <summary>Worker <paramref name="worker"/>'s part of <paramref name="packets"/> (0: until stopped).</summary>
    private static long Share(long packets, int worker, int workers) =>
        packets == 0 ? long.MaxValue / 2 : packets / workers + (worker < packets % workers ? 1 : 0);

    private static byte[] InterfaceMac(string interfaceName)
    {
        string text = File.ReadAllText($"/sys/class/net/{interfaceName}/address").Trim();
        return ConfigLoader.ParseMac(text) ?? throw new InvalidOperationException($"interface {interfaceName} has no Ethernet address ('{text}')");
    }

    /// <summary>A locally administered unicast MAC (02:fa:57:00:00:NN) for ports that have no address of their own.</summary>
    private static byte[] LocalMac(byte last) => [0x02, 0xfa, 0x57, 0x00, 0x00, last];

    private async Task ReloadFromSignalAsync()
    {
        if (_config.MapsFile is null)
        {
            _log.WriteLine("fastpath: SIGHUP: no maps file configured; nothing to reload");
            return;
        }

        ControlReply reply = await ImportAsync(_config.MapsFile).ConfigureAwait(false);
        _log.WriteLine(reply.ErrorMessage is null
            ? $"fastpath: SIGHUP: reloaded {_config.MapsFile} ({_table.Count} mappings)"
            : $"fastpath: SIGHUP: kept the current map: {reply.ErrorMessage}");
    }

    /// <summary>Stops everything that runs; returns 1 if a worker had failed, else null.</summary>
    private int? StopAll()
    {
        int? code = null;
        StopNotifications();
        StopFleet();
        _control?.Dispose();
        _control = null;
        _metrics?.Dispose();
        _metrics = null;
        _meter?.Dispose();
        _meter = null;
        _sampler?.Dispose();
        _sampler = null;
        if (_pipeline is RunningPipeline pipeline)
        {
            // Forgotten first: a second StopAll (Dispose after Run) must never stop or free the same pipeline twice.
            _pipeline = null;
            if (pipeline.Stop(s_drainQuiet, s_drainLimit) is Exception failure)
            {
                // Said already when the failure was what stopped the daemon.
                if (!(_stop.Task.IsCompletedSuccessfully && _stop.Task.Result.Reason.StartsWith(failure.Message, StringComparison.Ordinal)))
                {
                    _log.WriteLine($"fastpath: {failure.Message}");
                }

                code = 1;
            }

            SayFailedOutputs(pipeline.PortTotals());
            pipeline.Dispose();
        }

        _vtpm?.Dispose();
        _vtpm = null;
        if (_ownsSocket && _config.Control.UnixPath is string path)
        {
            _ownsSocket = false;
            File.Delete(path);
        }

        return code;
    }

    /// <summary><c>unix:PATH</c> or <c>127.0.0.1:PORT</c>: where the vTPM's command channel is.</summary>
    private static string VtpmWhere(VtpmConfig vtpm) => vtpm.Endpoint.SocketPath is string path
        ? "unix:" + path
        : string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{vtpm.Endpoint.Port}");

    /// <summary>The configured vTPM, single or pair, started where <c>vtpm serve</c> starts its own
    /// (<see cref="VtpmHost"/>); the pair's instances are this same binary (<c>fastpath vtpm instance</c>).</summary>
    private static VtpmHost StartVtpm(VtpmConfig vtpm) => VtpmHost.Start(new VtpmHostOptions(vtpm.StateDirectory, vtpm.Endpoint)
    {
        Single = !vtpm.Pair,
        Durability = vtpm.Durability,
        Timeout = TimeSpan.FromMilliseconds(vtpm.TimeoutMilliseconds),
        StatusSocket = vtpm.StatusSocket,
    });
}
