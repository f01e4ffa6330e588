using FastPath.Vtpm.Pair;
using FastPath.Vtpm.Protocol;
using FastPath.Vtpm.State;

namespace FastPath.Vtpm;

/// <summary>What a vTPM is started with: its state directory and channels, single or pair, and the pair's
/// durability, instance timeout, status socket and instance kind.</summary>
/// <param name="StateDirectory">DIR: a single vTPM keeps its state slots there; a pair keeps DIR/a, DIR/b and DIR/pair.</param>
/// <param name="Endpoint">The swtpm command and control channels.</param>
public sealed record VtpmHostOptions(string StateDirectory, VtpmEndpoint Endpoint)
{
    /// <summary>One vTPM in this process (libtpms embedded) instead of the high-availability pair.</summary>
    public bool Single { get; init; }

    public PairDurability Durability { get; init; } = PairDurability.Pair;

    /// <summary>The default of <see cref="Timeout"/> in milliseconds (<c>--timeout-ms</c>, <c>vtpm.timeoutMs</c>).</summary>
    public const int DefaultTimeoutMs = 2000;

    /// <summary>A pair instance that does not answer within this is treated as hung.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(DefaultTimeoutMs);

    /// <summary>The pair's status socket; null: DIR/status.sock.</summary>
    public string? StatusSocket { get; init; }

    /// <summary>Makes the pair's instance named a or b in its state directory; null: this program's own
    /// <c>vtpm instance</c> (libtpms embedded), the default.</summary>
    public Func<string, string, PairInstance>? Instances { get; init; }

    /// <summary>What the instances are, for the start-up line (<c>fastpath</c> or <c>swtpm</c>).</summary>
    public string InstancesName { get; init; } = "fastpath";

    /// <summary>The pair's status socket path.</summary>
    public string StatusPath => StatusSocket ?? Path.Combine(StateDirectory, PairController.StatusSocketName);
}

/// <summary>The one place a vTPM starts: <c>fastpath vtpm serve</c> (single or pair) and the daemon's
/// <c>"vtpm"</c> section (single or pair) both go through <see cref="Start"/>, so both serve the same engine on the
/// same channels with the same durability rules.</summary>
/// <remarks>Thread-safe as the backend it holds; disposed once by its owner.</remarks>
public sealed class VtpmHost : IDisposable
{
    private readonly SwtpmServer? _single;
    private readonly PairController? _pair;

    private VtpmHost(SwtpmServer? single, PairController? pair, string description)
    {
        _single = single;
        _pair = pair;
        Description = description;
    }

    /// <summary>The pair's controller (status, failover), or null for a single vTPM.</summary>
    public PairController? Pair => _pair;

    /// <summary>Completes when a client sent CMD_SHUTDOWN on the control channel.</summary>
    public Task ShutdownRequested => _pair?.ShutdownRequested ?? _single!.ShutdownRequested;

    /// <summary>One line for the log: what serves where, and the TCTI string clients use.</summary>
    public string Description { get; }

    /// <summary>Why the channels (and the pair's status socket) cannot be opened, or null.</summary>
    public static string? ListenProblem(VtpmHostOptions options) =>
        options.Endpoint.ListenProblem() ?? (options.Single ? null : UnixSocketPath.ListenProblem(options.StatusPath));

    /// <summary>Creates the state directory if needed and starts serving.</summary>
    /// <exception cref="InvalidDataException">A single vTPM's state on disk is refused (one line naming the file).</exception>
    public static VtpmHost Start(VtpmHostOptions options)
    {
        Directory.CreateDirectory(options.StateDirectory);
        if (options.Single)
        {
            var store = new StateStore(options.StateDirectory);
            var server = new SwtpmServer(store);
            try
            {
                server.Start(options.Endpoint);
            }
            catch
            {
                server.Dispose();
                throw;
            }

            return new VtpmHost(server, null, $"vtpm serving on {options.Endpoint}, state {store.FilePath}; TPM2TOOLS_TCTI={options.Endpoint.Tcti}");
        }

        Func<string, string, PairInstance> instances = options.Instances ?? OwnInstances(options.Timeout);
        var pair = new PairController(options.StateDirectory, instances, options.Durability);
        try
        {
            pair.Start(options.Endpoint, options.StatusPath);
        }
        catch
        {
            pair.Dispose();
            throw;
        }

        string durability = PairDurabilityNames.Name(options.Durability);
        string engine = options.InstancesName == "fastpath" ? " (libtpms engine)" : "";
        return new VtpmHost(null, pair, $"vtpm pair serving on {options.Endpoint}, status {options.StatusPath}, {options.InstancesName} instances{engine}, state {options.StateDirectory}/a and /b, durability {durability}; TPM2TOOLS_TCTI={options.Endpoint.Tcti}");
    }

    /// <summary>This same program's <c>vtpm instance</c> (the <c>fastpath</c> binary), libtpms embedded.</summary>
    private static Func<string, string, PairInstance> OwnInstances(TimeSpan timeout)
    {
        string executable = Environment.ProcessPath ?? throw new InvalidOperationException("cannot find the fastpath executable to start vTPM instances");
        return (name, directory) => new FastpathInstance(name, directory, executable, ["vtpm", "instance"], timeout);
    }

    public void Dispose()
    {
        _pair?.Dispose();
        _single?.Dispose();
    }
}
