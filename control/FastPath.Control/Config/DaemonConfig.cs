using System.Net;

namespace FastPath.Control.Config;

/// <summary>A validated <c>fastpath.json</c>: everything <c>fastpath run</c> needs, checked before anything starts.</summary>
/// <remarks>Immutable.</remarks>
public sealed record DaemonConfig
{
    /// <summary>The file it was read from (relative paths in it are relative to its folder).</summary>
    public required string Source { get; init; }

    /// <summary>One worker per entry: the core it is pinned to, or -1 for none.</summary>
    public required IReadOnlyList<int> Cores { get; init; }

    /// <summary>Frames per RX burst.</summary>
    public int BatchSize { get; init; } = Dataplane.Pipeline.PipelineBuilder.DefaultBatchSize;

    /// <summary>What an idle worker does after <see cref="IdleSpinPolls"/> empty polls: sleep in poll(2), or yield and poll on.</summary>
    public Dataplane.Pipeline.WorkerIdle Idle { get; init; } = Dataplane.Pipeline.PipelineBuilder.DefaultIdle;

    /// <summary>Empty polls an idle worker spins through before it sleeps or yields.</summary>
    public int IdleSpinPolls { get; init; } = Dataplane.Pipeline.PipelineBuilder.DefaultSpinPolls;

    /// <summary>Maps file loaded at start and on SIGHUP; null starts with an empty table.</summary>
    public string? MapsFile { get; init; }

    /// <summary>Fleet maps: the etcd cluster the table follows (README "Fleet"); null when the maps are a file or none.</summary>
    public EtcdMapsConfig? MapsEtcd { get; init; }

    /// <summary>Control socket endpoint.</summary>
    public required ControlEndpoint Control { get; init; }

    /// <summary>Whether a non-loopback TCP control endpoint is accepted.</summary>
    public bool AllowRemoteControl { get; init; }

    /// <summary>Loopback address and port serving Prometheus text at <c>/metrics</c>; null for none.</summary>
    public IPEndPoint? Metrics { get; init; }

    /// <summary>Ports by name, in file order.</summary>
    public required IReadOnlyList<PortConfig> Ports { get; init; }

    /// <summary>User/secure pairs.</summary>
    public required IReadOnlyList<PairConfig> Pairs { get; init; }

    /// <summary>The vTPM to serve, or null.</summary>
    public VtpmConfig? Vtpm { get; init; }
}
