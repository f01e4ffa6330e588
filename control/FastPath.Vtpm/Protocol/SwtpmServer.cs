using System.IO.Pipelines;
using System.Net;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.State;

namespace FastPath.Vtpm.Protocol;

/// <summary>
/// One vTPM behind the swtpm socket protocol: raw TPM commands on the command port P (one or many per
/// connection, no extra framing) and swtpm's CMD_* control commands on P+1. Loopback by default.
/// </summary>
/// <remarks>Thread-safe: connections are served concurrently, and every engine call (TPM command or control
/// command that touches the TPM) runs under <see cref="_engineLock"/>, so commands execute one at a time in
/// arrival order and never deadlock (no other lock is taken while it is held).</remarks>
public sealed class SwtpmServer : IDisposable
{
    private readonly Lock _engineLock = new();
    private readonly StateStore? _store;
    private readonly RandomSource _random;
    private readonly CommandListener _commands;
    private readonly ControlListener _control;
    private readonly TaskCompletionSource _shutdown = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TpmEngine _engine;

    /// <summary>A flush returns only once the socket's send loop has taken every byte (pause and resume at 1
    /// byte): SocketServer disposes the connection as soon as a handler returns, and bytes still in the pipe
    /// would be lost for a client that half-closed before its response (the malformed-command path).</summary>
    private static readonly PipeOptions SendOptions = new(pauseWriterThreshold: 1, resumeWriterThreshold: 1, useSynchronizationContext: false);

    /// <summary>A server whose state lives in <paramref name="store"/> (null: in memory only, for benchmarks).</summary>
    public SwtpmServer(StateStore? store, RandomSource random)
    {
        _store = store;
        _random = random;
        _engine = CreateEngine(store?.Load());
        _commands = new CommandListener(this);
        _control = new ControlListener(this);
    }

    /// <summary>Completes when a client sent CMD_SHUTDOWN on the control channel.</summary>
    public Task ShutdownRequested => _shutdown.Task;

    public IPEndPoint? CommandEndPoint { get; private set; }

    /// <summary>Opens the command port and the control port (command port + 1).</summary>
    public void Start(IPAddress address, int port)
    {
        if (port is <= 0 or >= 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, "the command port must be 1..65534 (the control channel uses port + 1)");
        }

        CommandEndPoint = new IPEndPoint(address, port);
        _commands.Listen(CommandEndPoint, sendOptions: SendOptions);
        _control.Listen(new IPEndPoint(address, port + 1), sendOptions: SendOptions);
    }

    public void Dispose()
    {
        _commands.Dispose();
        _control.Dispose();
        lock (_engineLock)
        {
            _engine.Dispose();
        }
    }

    /// <summary>Runs one TPM command; <paramref name="response"/> must hold <see cref="TpmEngine.ResponseBufferSize"/> bytes.</summary>
    internal int Execute(ReadOnlySpan<byte> command, Span<byte> response)
    {
        lock (_engineLock)
        {
            return _engine.Execute(command, response);
        }
    }

    internal void SetLocality(byte locality)
    {
        lock (_engineLock)
        {
            _engine.Locality = locality;
        }
    }

    internal void PowerCycle()
    {
        lock (_engineLock)
        {
            _engine.PowerOn();
        }
    }

    internal void RequestShutdown() => _shutdown.TrySetResult();

    internal byte[] GetStateBlob(byte type)
    {
        lock (_engineLock)
        {
            return type switch
            {
                ControlCommand.BlobPermanent => _engine.SerializePersistent(),
                ControlCommand.BlobVolatile => _engine.SerializeState(),
                _ => [],
            };
        }
    }

    /// <summary>Replaces the TPM's state: a permanent blob makes a powered-off TPM with that NV; a volatile
    /// (full) blob restores everything. Returns false when the blob does not parse.</summary>
    internal bool SetStateBlob(byte type, byte[] blob)
    {
        lock (_engineLock)
        {
            try
            {
                if (type == ControlCommand.BlobPermanent)
                {
                    TpmEngine replacement = CreateEngine(blob);
                    _engine.Dispose();
                    _engine = replacement;
                    _store?.Save(_engine.SerializePersistent());
                    return true;
                }

                if (type == ControlCommand.BlobVolatile)
                {
                    _engine.RestoreState(blob);
                    _store?.Save(_engine.SerializePersistent());
                    return true;
                }

                return type == ControlCommand.BlobSaveState;
            }
            catch (InvalidDataException)
            {
                return false;
            }
        }
    }

    /// <summary>SHA-256 of the engine's full canonical state (used by tests and by the pair to compare replicas).</summary>
    public byte[] StateDigest()
    {
        lock (_engineLock)
        {
            return _engine.StateDigest();
        }
    }

    private TpmEngine CreateEngine(byte[]? persistent)
    {
        var engine = new TpmEngine(_random, persistent, _store is null ? null : _store.Save)
        {
            FailureObserved = exception => Console.Error.WriteLine($"fastpath: vtpm: command failed inside the engine: {exception}"),
        };
        if (persistent is null && _store is not null)
        {
            // A freshly manufactured TPM is durable before its first command is answered.
            _store.Save(engine.SerializePersistent());
        }

        return engine;
    }
}
