using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Text;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Protocol;
using FastPath.Vtpm.State;

namespace FastPath.Vtpm.Pair;

/// <summary>
/// The I/O controller of the high-availability pair (seed 001 claim 1): serves the swtpm protocol, supervises
/// two instance processes (state in DIR/a and DIR/b), classifies each command (<see cref="CommandClassification"/>),
/// flags the less loaded live instance as master for it, runs READ on the master only, WRITE on both in one
/// global order, RANDOM on both (libtpms: in DRBG lockstep, or on the master with a state hand-over for commands
/// that draw outside the DRBG; instances that take supplied entropy: replaying the master's), answers with the master's
/// response and treats a different slave response as a slave fault (resync). An instance that dies or hangs is
/// dropped, restarted and resynced by a full-state transfer (GET/SET_STATEBLOB) from the survivor. Parts:
/// <c>.MasterFlag</c>, <c>.Replication</c>, <c>.Supervision</c>, <c>.StateTransfer</c>, <c>.Status</c>.
/// </summary>
/// <remarks>Thread-safe: READs run concurrently; WRITE/RANDOM, control commands, resyncs and rejoins hold
/// <see cref="_order"/> (the global order). Membership (which instances hold every acknowledged change) is
/// written durably to DIR/pair before a command applied by fewer instances is acknowledged, so a restart of the
/// whole pair resyncs from an instance that has everything.</remarks>
public sealed partial class PairController : TpmBackend, IDisposable
{
    /// <summary>TPM_RC_RETRY: no instance is live this instant; TSS stacks resend.</summary>
    private const uint RcRetry = 0x922;

    private readonly PairMember[] _members;
    private readonly SemaphoreSlim _order = new(1, 1);
    private readonly StateStore _membership;
    private readonly Lock _membershipLock = new();
    private readonly Lock _failLock = new();
    private readonly PairDurability _durability;
    private readonly TaskCompletionSource _shutdown = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private CommandListener? _commands;
    private ControlListener? _control;
    private StatusListener? _status;
    private VtpmEndpoint? _endpoint;
    private string _savedMembership = "";
    private bool _membershipFailing;
    private long _failovers;
    private long _resyncs;
    private long _handovers;
    private long _lag;
    private long _tieBreak;
    private DateTime? _lastResync;
    private double _lastResyncMilliseconds;

    /// <param name="stateDirectory">DIR: instances keep their state in DIR/a and DIR/b, membership in DIR/pair.</param>
    /// <param name="executable">The program that runs an instance (the <c>fastpath</c> binary).</param>
    /// <param name="prefix">Its leading arguments (<c>vtpm instance</c>); <c>--state</c> and <c>--socket</c> follow.</param>
    /// <param name="timeout">An instance that does not answer within this is treated as hung.</param>
    /// <param name="durability">When a state change is acknowledged (<see cref="PairDurability"/>).</param>
    public PairController(string stateDirectory, string executable, IReadOnlyList<string> prefix, TimeSpan timeout, PairDurability durability = PairDurability.Pair)
        : this(stateDirectory, (name, directory) => new FastpathInstance(name, directory, executable, prefix, timeout), durability)
    {
    }

    /// <param name="stateDirectory">DIR: instances keep their state in DIR/a and DIR/b, membership in DIR/pair.</param>
    /// <param name="createInstance">Makes the instance named a or b with its state directory (both of one kind:
    /// the state transfer copies one's blobs into the other).</param>
    /// <param name="durability">When a state change is acknowledged (<see cref="PairDurability"/>).</param>
    public PairController(string stateDirectory, Func<string, string, PairInstance> createInstance, PairDurability durability = PairDurability.Pair)
    {
        _durability = durability;
        _members =
        [
            new PairMember(createInstance("a", Path.Combine(stateDirectory, "a"))),
            new PairMember(createInstance("b", Path.Combine(stateDirectory, "b"))),
        ];
        _membership = new StateStore(Path.Combine(stateDirectory, "pair"));
        foreach (PairMember member in _members)
        {
            member.Exited += OnExited;
        }
    }

    /// <summary>Completes when a client sent CMD_SHUTDOWN on the control channel.</summary>
    public Task ShutdownRequested => _shutdown.Task;

    public IReadOnlyList<PairMember> Members => _members;

    /// <summary>The status socket's file name in the state directory (see <see cref="Start"/>).</summary>
    public const string StatusSocketName = "status.sock";

    /// <summary>Starts both instances, brings the one that lacks acknowledged changes (or the second of a new
    /// pair) to the state of the other, then opens the swtpm channels at <paramref name="endpoint"/> and the
    /// status socket at <paramref name="statusPath"/> (a 0600 Unix socket: status and failover are its owner's).</summary>
    public void Start(VtpmEndpoint endpoint, string statusPath)
    {
        if ((endpoint.ListenProblem() ?? UnixSocketPath.ListenProblem(statusPath)) is string problem)
        {
            throw new IOException(problem);
        }

        byte[]? saved = _membership.Load();
        string holders = saved is null ? "a" : Encoding.ASCII.GetString(saved);
        lock (_membershipLock)
        {
            // What the disk says: a start whose members match it writes nothing (a full disk is no obstacle).
            _savedMembership = saved is null || holders.Any(c => c is not ('a' or 'b')) ? "" : holders;
        }

        PairMember source = holders.StartsWith('b') ? _members[1] : _members[0];
        PairMember other = Other(source);
        source.Start(TimeSpan.FromSeconds(30));
        other.Start(TimeSpan.FromSeconds(30));
        string? lagging = null;
        try
        {
            Transfer(source, other);
        }
        catch (InstanceFailedException exception) when (exception.Member == other.Name)
        {
            // Its disk refused the state (full): the pair starts with the source alone, and the other rejoins
            // (with backoff) once its disk takes the state, instead of the whole pair exiting on every retry.
            lagging = exception.Message;
        }

        source.Live = true;
        other.Live = true;
        if (lagging is not null)
        {
            Fail(other, $"could not take {source.Name}'s state at start: {lagging}");
        }

        SaveMembership();
        _lag = 0;

        _commands = new CommandListener(this);
        _control = new ControlListener(this) { AllowStateCommands = endpoint.StateCommandsAllowed };
        _status = new StatusListener(this);
        _endpoint = endpoint;
        _commands.Listen(endpoint.Command);
        _control.Listen(endpoint.Control, sendOptions: SwtpmServer.SendOptions, receiveOptions: SwtpmServer.ReceiveOptions);
        try
        {
            _status.Start(statusPath);
        }
        catch (Exception exception) when (exception is IOException or System.Net.Sockets.SocketException)
        {
            // The TPM serves without it: status and failover are an operator's tools, not the clients'.
            Console.Error.WriteLine($"fastpath: vtpm pair: status socket {statusPath} not opened: {exception.Message}");
        }
    }

    /// <summary>Where the swtpm channels listen, once started.</summary>
    public VtpmEndpoint? Endpoint => _endpoint;

    /// <summary>Runs synchronously on the caller's thread (each client connection has its own, see
    /// <see cref="CommandListener"/>): the instances' round trips are blocking calls, so waiting for the global
    /// order blocks too rather than parking a continuation on a thread pool those calls would then block.</summary>
    internal override ValueTask<int> ExecuteAsync(byte[] command, int length, byte[] response)
    {
        CommandClass kind = CommandClassification.Classify(command.AsSpan(0, length));
        if (kind == CommandClass.Read)
        {
            return ValueTask.FromResult(Read(command.AsSpan(0, length), response));
        }

        _order.Wait();
        try
        {
            return ValueTask.FromResult(Replicate(kind, command.AsSpan(0, length), response));
        }
        finally
        {
            _order.Release();
        }
    }

    internal override void SetLocality(byte locality) => Broadcast("CMD_SET_LOCALITY", control => control.SetLocality(locality));

    internal override void PowerCycle() => Broadcast("CMD_INIT", control => control.Init());

    /// <summary>One control command on every live instance, under the global order.</summary>
    private void Broadcast(string what, Func<SwtpmControlClient, uint> command)
    {
        _order.Wait();
        try
        {
            foreach (PairMember member in _members)
            {
                if (!member.Live)
                {
                    continue;
                }

                try
                {
                    uint result = member.Control(command);
                    if (result != ControlCommand.ResultSuccess)
                    {
                        Console.Error.WriteLine($"fastpath: vtpm pair: instance {member.Name} answered {what} with 0x{result:x}");
                    }
                }
                catch (InstanceFailedException exception)
                {
                    Fail(member, exception.Message);
                }
            }
        }
        finally
        {
            _order.Release();
        }
    }

    internal override void RequestShutdown() => _shutdown.TrySetResult();

    internal override byte[] GetStateBlob(byte type)
    {
        while (PickMaster() is { } member)
        {
            try
            {
                (uint result, _, byte[] blob) = member.Control(control => control.GetStateBlob(type));
                return result == ControlCommand.ResultSuccess ? blob : [];
            }
            catch (InstanceFailedException exception)
            {
                Fail(member, exception.Message);
            }
        }

        return [];
    }

    /// <summary>A client migrating state into the pair (QEMU's sequence: STOP, SET_STATEBLOB per type, INIT): each
    /// live instance is stopped and gets the blob; the client's CMD_INIT (<see cref="PowerCycle"/>) resumes them.</summary>
    internal override async ValueTask<bool> SetStateBlobAsync(byte type, byte[] blob)
    {
        await _order.WaitAsync().ConfigureAwait(false);
        try
        {
            bool ok = true;
            foreach (PairMember member in _members.Where(m => m.Live))
            {
                try
                {
                    ok &= member.Control(control => control.Stop() == ControlCommand.ResultSuccess
                        && control.SetStateBlob(type, 0, blob) == ControlCommand.ResultSuccess);
                }
                catch (InstanceFailedException exception)
                {
                    Fail(member, exception.Message);
                }
            }

            return ok;
        }
        finally
        {
            _order.Release();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _commands?.Dispose();
        _control?.Dispose();
        _status?.Dispose();
        _endpoint?.RemoveSocketFiles();
        foreach (PairMember member in _members)
        {
            member.Live = false;
            member.Dispose();
        }

        _stop.Dispose();
    }
}
