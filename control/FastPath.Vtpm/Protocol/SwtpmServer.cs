using System.IO.Pipelines;
using System.Net;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.State;

namespace FastPath.Vtpm.Protocol;

/// <summary>
/// One vTPM behind the swtpm socket protocol: raw TPM commands on the command channel (one or many per
/// connection, no extra framing) and swtpm's CMD_* control commands on the control channel: Unix sockets PATH
/// and PATH.ctrl (0600) by default, or loopback TCP P and P+1 (<see cref="VtpmEndpoint"/>).
/// </summary>
/// <remarks>Thread-safe: connections are served concurrently, and every engine call (TPM command or control
/// command that touches the TPM) runs under <see cref="_engineLock"/>, so commands execute one at a time in
/// arrival order. <see cref="_durableLock"/> (taken inside the engine lock, never the other way round) guards
/// the group commit: a response is released only once the state it observed is on disk, and one fsync'd
/// write covers every change made while the previous write was in flight.</remarks>
public sealed class SwtpmServer : TpmBackend, IDisposable
{
    private readonly Lock _engineLock = new();
    private readonly StateStore? _store;
    private CommandListener? _commands;
    private ControlListener? _control;
    private readonly TaskCompletionSource _shutdown = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _durableLock = new();
    private readonly List<(long Version, TaskCompletionSource<bool> Done)> _waiters = [];
    private byte[]? _pendingBlob;
    private long _pendingVersion;
    private long _durableVersion;
    private long _oldestPendingAt;
    private long _saves;
    private double _lastPersistMs;
    private double _maxPersistMs;
    private bool _flushing;
    private bool _resumeOnInit;
    private bool _disposed;
    private bool _keepingStateBlob;

    // Under _durableLock: every persistent change of the command executing now only refreshed libtpms's orderly data.
    private bool _orderlyOnly;
    private readonly AutoResetEvent _flushSignal = new(false);
    private Thread? _flushThread;
    private volatile bool _stopped;
    private VtpmEngine _engine;

    // The engine's whole state as of the newest acknowledged version (durable, or answered before it was durable:
    // the pair's `pair` durability), taken just before the first undoable change after it: a failed save (a full
    // disk) puts it back, so no answer ever reflects a change that was refused, and nothing answered is undone.
    // libtpms's state blob is the volatile state only: its permanent state is kept beside it (null for the managed
    // engine, whose state blob holds everything).
    private byte[]? _rollback;
    private byte[]? _rollbackPermanent;
    private long _rollbackVersion;
    private byte[]? _durableBlob;

    // Under _durableLock. The highest version an answer left for before it was on disk (RequestFlush); a failed
    // save never rolls back below it. Whether the last save failed (changes then wait for the disk, so they are
    // refused, not kept in memory); whether a retry of the pending state is scheduled.
    private long _acknowledgedVersion;
    private bool _saveFailing;
    private bool _retryScheduled;

    /// <summary>A flush returns only once the socket's send loop has taken every byte (pause and resume at 1
    /// byte): SocketServer disposes the connection as soon as a handler returns, and bytes still in the pipe
    /// would be lost for a client that half-closed before its response (the malformed-command path). Both
    /// pipe ends run inline so a command goes receive → execute → send on one thread without pool hops.</summary>
    internal static readonly PipeOptions SendOptions = new(
        readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, pauseWriterThreshold: 1, resumeWriterThreshold: 1, useSynchronizationContext: false);

    internal static readonly PipeOptions ReceiveOptions = new(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);

    /// <summary>A server whose state lives in <paramref name="store"/> (null: in memory only, for benchmarks).</summary>
    /// <remarks>The engine is libtpms, which holds one TPM per process: one server per process at a time.</remarks>
    public SwtpmServer(StateStore? store)
    {
        _store = store;
        _durableBlob = store?.Load();
        try
        {
            _engine = CreateEngine(_durableBlob);
        }
        catch (InvalidDataException exception) when (store is not null)
        {
            // Never a silent reset: the state on disk is refused in one line that names its file.
            throw new InvalidDataException($"{store.LoadedFrom ?? store.FilePath}: {exception.Message}", exception);
        }
    }

    /// <summary>Completes when a client sent CMD_SHUTDOWN on the control channel.</summary>
    public Task ShutdownRequested => _shutdown.Task;

    /// <summary>Where the channels listen, once started.</summary>
    public VtpmEndpoint? Endpoint { get; private set; }

    /// <summary>How long a command connection may stay silent before it is closed (<see cref="CommandListener"/>).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Opens the command channel and the control channel at <paramref name="endpoint"/>.</summary>
    public void Start(VtpmEndpoint endpoint)
    {
        _commands = new CommandListener(this) { IdleTimeout = IdleTimeout };
        _control = new ControlListener(this) { AllowStateCommands = endpoint.StateCommandsAllowed };
        _commands.Listen(endpoint.Command);
        Endpoint = endpoint;
        _control.Listen(endpoint.Control, sendOptions: SendOptions, receiveOptions: ReceiveOptions);
    }

    public void Dispose()
    {
        lock (_durableLock)
        {
            _disposed = true;
        }

        _stopped = true;
        _flushSignal.Set();

        _commands?.Dispose();
        _control?.Dispose();
        Endpoint?.RemoveSocketFiles();
        lock (_engineLock)
        {
            _engine.Dispose();
        }
    }

    /// <summary>Group commit: the response leaves only once the state it depends on is on disk (or was
    /// acknowledged already). The calling thread (a blocking connection thread) writes the state itself when no write
    /// is under way, so a change costs no thread hop; connections arriving meanwhile execute and share the next write.</summary>
    internal override ValueTask<int> ExecuteAsync(byte[] command, int length, byte[] response)
    {
        int responseLength = Execute(command.AsSpan(0, length), response, out long durableVersion);
        if (Acknowledged(durableVersion))
        {
            return ValueTask.FromResult(responseLength);
        }

        return ValueTask.FromResult(WaitDurable(durableVersion) ? responseLength : NvUnavailable(response));
    }

    /// <summary>Runs one TPM command; <paramref name="response"/> must hold <see cref="VtpmEngine.ResponseBufferSize"/> bytes.</summary>
    /// <param name="durableVersion">The state version that must be on disk before the response may leave
    /// (the command may have changed state, or read state that is not durable yet).</param>
    /// <param name="undoable">The answer will wait for the disk, so a failed save must be able to undo this
    /// command (a snapshot is taken first when everything before it is acknowledged). False for an answer that
    /// leaves before the disk (<see cref="RequestFlush"/>): nothing to undo, and no snapshot cost.</param>
    internal int Execute(ReadOnlySpan<byte> command, Span<byte> response, out long durableVersion, bool undoable = true)
    {
        lock (_engineLock)
        {
            if (undoable && _store is not null && Pair.CommandClassification.Classify(command) != Pair.CommandClass.Read)
            {
                TakeRollbackIfCleanUnsynchronized();
            }

            long before;
            lock (_durableLock)
            {
                before = _pendingVersion;
                _orderlyOnly = true;
            }

            int length = _engine.Execute(command, response);
            bool flush = false;
            lock (_durableLock)
            {
                if (_pendingVersion > before && (_orderlyOnly || IsStartup(command)) && before == Math.Max(_durableVersion, _acknowledgedVersion))
                {
                    // libtpms only refreshed its NV copy of the clock (every 4 s of TPM clock, at whatever command
                    // runs then, reads included): nothing a client sees needs the disk, so the answer does not wait
                    // for it (on a full disk a read would otherwise be refused every 4 s); it is written when it can.
                    // TPM2_Startup likewise (its reset counters): a TPM that refuses Startup serves nothing, and a
                    // state that must first move to new files (the older one-file format) cannot be written on a
                    // full disk. Either is kept in memory and written as soon as the disk takes it.
                    _acknowledgedVersion = _pendingVersion;
                    flush = !_flushing && _store is not null;
                    _flushing |= flush;
                }

                durableVersion = _pendingVersion;
            }

            if (flush)
            {
                StartBackgroundFlush();
            }

            return length;
        }
    }

    /// <summary>Completes with true once state version <paramref name="version"/> is durable, false when the
    /// write failed (the caller answers TPM_RC_NV_UNAVAILABLE instead of the response).</summary>
    internal ValueTask<bool> WaitDurableAsync(long version)
    {
        lock (_durableLock)
        {
            if (_durableVersion >= version)
            {
                return ValueTask.FromResult(true);
            }

            var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((version, done));
            if (!_flushing)
            {
                _flushing = true;
                StartBackgroundFlush();
            }

            return new ValueTask<bool>(done.Task);
        }
    }

    /// <summary>Blocks until state version <paramref name="version"/> is durable; false when the write failed.
    /// When no write is under way the calling thread does it (leader of the group commit): no pool thread is
    /// woken, none spins afterwards, and the answer follows the fdatasync on the same thread.</summary>
    internal bool WaitDurable(long version)
    {
        TaskCompletionSource<bool>? done = null;
        lock (_durableLock)
        {
            if (_durableVersion >= version)
            {
                return true;
            }

            if (!_flushing && _store is not null)
            {
                _flushing = true;
            }
            else
            {
                done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((version, done));
            }
        }

        if (done is null)
        {
            return FlushLoop(version);
        }

        return done.Task.GetAwaiter().GetResult();
    }

    /// <summary>Blocks until every state change made so far is durable; false when the write failed.</summary>
    internal bool FlushNow()
    {
        long version;
        lock (_durableLock)
        {
            version = _pendingVersion;
        }

        return WaitDurable(version);
    }

    private static bool IsStartup(ReadOnlySpan<byte> command) =>
        command.Length >= TpmConstants.HeaderSize && System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(command[6..]) == 0x144;

    /// <summary>Whether an answer that observed state version <paramref name="version"/> may leave without waiting:
    /// every change it observed is durable or was acknowledged already.</summary>
    internal bool Acknowledged(long version)
    {
        lock (_durableLock)
        {
            return version <= Math.Max(_durableVersion, _acknowledgedVersion);
        }
    }

    /// <summary>Whether the last save failed (a full disk) and none succeeded since: changes should then wait for
    /// the disk, so they are refused and undone rather than acknowledged from memory.</summary>
    internal bool SaveFailing
    {
        get
        {
            lock (_durableLock)
            {
                return _saveFailing;
            }
        }
    }

    /// <summary>The answer for state version <paramref name="version"/> leaves now, before the disk (the pair's
    /// default durability): the version is acknowledged (a failed save never undoes it) and its write starts now.</summary>
    internal void RequestFlush(long version)
    {
        lock (_durableLock)
        {
            _acknowledgedVersion = Math.Max(_acknowledgedVersion, version);
            if (_durableVersion >= version || _flushing || _store is null)
            {
                return;
            }

            _flushing = true;
            StartBackgroundFlush();
        }
    }

    /// <summary>Whether the oldest change not yet on disk has waited longer than <paramref name="bound"/>: the
    /// pair's `pair` durability then makes the next answer wait for the disk, so acknowledged changes cannot
    /// pile up in memory while the write falls behind (a busy CPU or a slow flush).</summary>
    internal bool DiskBehind(TimeSpan bound)
    {
        lock (_durableLock)
        {
            return _pendingVersion > _durableVersion && System.Diagnostics.Stopwatch.GetElapsedTime(_oldestPendingAt) > bound;
        }
    }

    /// <summary>Durable saves so far, and how long the oldest change each save covered had waited for the disk
    /// (last and maximum, ms): the pair's `pair` durability promises this stays within about 10 ms.</summary>
    public (long Saves, double LastMs, double MaxMs) PersistLag()
    {
        lock (_durableLock)
        {
            return (_saves, _lastPersistMs, _maxPersistMs);
        }
    }

    /// <summary>Engine callback, under the engine lock: remember the newest persistent blob.</summary>
    private void OnPersistentChange(byte[] blob)
    {
        lock (_durableLock)
        {
            byte[]? previous = _pendingVersion > _durableVersion ? _pendingBlob : _durableBlob;
            if (previous is null || !LibtpmsEngine.OnlyOrderlyDataDiffers(previous, blob))
            {
                _orderlyOnly = false;
            }

            _pendingBlob = blob;
            if (_pendingVersion == _durableVersion)
            {
                // The oldest change not yet on disk: its age when a save covers it is the persistence lag.
                _oldestPendingAt = System.Diagnostics.Stopwatch.GetTimestamp();
            }

            _pendingVersion++;
        }
    }

    /// <summary>Under <see cref="_durableLock"/>, with <see cref="_flushing"/> just claimed: the flush thread
    /// writes what is pending. One dedicated thread blocked in the kernel between writes, not a pool thread per
    /// write: a pool worker spins in its semaphore after each item, which cost more CPU than the command.</summary>
    private void StartBackgroundFlush()
    {
        if (_flushThread is null)
        {
            _flushThread = new Thread(FlushThread) { IsBackground = true, Name = "vtpm-flush" };
            _flushThread.Start();
        }

        _flushSignal.Set();
    }

    private void FlushThread()
    {
        while (true)
        {
            _flushSignal.WaitOne();
            if (_stopped)
            {
                return;
            }

            GatherChanges();
            FlushLoop(long.MaxValue);
        }
    }

    /// <summary>A background write covers the changes of the next <see cref="GatherTime"/> too: the flush thread
    /// starts it once the oldest pending change is that old, unless an answer waits for the disk. Answers that left
    /// before the disk (the pair's `pair` durability) came one per change, and one save (a write and its
    /// fdatasync, a VM exit and an interrupt here) per change cost the instance more CPU than the command; the
    /// change still reaches the disk well within the pair's 3 ms bound (<see cref="Pair.InstanceServer"/>).</summary>
    private void GatherChanges()
    {
        TimeSpan wait;
        lock (_durableLock)
        {
            if (_waiters.Count > 0 || _pendingVersion <= _durableVersion)
            {
                return;
            }

            wait = GatherTime - System.Diagnostics.Stopwatch.GetElapsedTime(_oldestPendingAt);
        }

        if (wait > TimeSpan.Zero)
        {
            // Whole milliseconds: Sleep(TimeSpan) truncates, and a sleep of 0 is only a yield.
            Thread.Sleep((int)Math.Ceiling(wait.TotalMilliseconds));
        }
    }

    /// <summary>How long a background write waits for more changes to cover (<see cref="GatherChanges"/>).</summary>
    internal static readonly TimeSpan GatherTime = TimeSpan.FromMilliseconds(1);

    /// <summary>Writes the newest pending blob until nothing is pending, or (a leader that wrote for its own
    /// answer) until version <paramref name="until"/> is durable, handing what is still pending to a pool thread;
    /// each pass releases every waiter its write covers. One writer at a time (<see cref="_flushing"/>).
    /// Returns false when a write failed (the changes were rolled back).</summary>
    private bool FlushLoop(long until)
    {
        while (true)
        {
            byte[] blob;
            long version;
            long snapshotAt;
            lock (_durableLock)
            {
                if (_durableVersion >= _pendingVersion || _pendingBlob is null)
                {
                    _flushing = false;
                    return true;
                }

                if (_durableVersion >= until)
                {
                    // The leader's own answer may leave: the flush thread writes what arrived since.
                    StartBackgroundFlush();
                    return true;
                }

                blob = _pendingBlob;
                version = _pendingVersion;
                snapshotAt = System.Diagnostics.Stopwatch.GetTimestamp();
            }

            bool ok = true;
            try
            {
                _store!.Save(blob);
            }
            catch (IOException exception)
            {
                if (!SaveFailing)
                {
                    // Once per outage: the retries after it fail the same way.
                    Console.Error.WriteLine($"fastpath: vtpm: state write failed, changes refused (TPM_RC_NV_UNAVAILABLE) and undone until it succeeds; reads go on: {exception.Message}");
                }

                return RollBack();
            }
            catch (ObjectDisposedException)
            {
                // Stopping: the store is closed.
                lock (_durableLock)
                {
                    _flushing = false;
                }

                return false;
            }

            List<TaskCompletionSource<bool>> released = [];
            lock (_durableLock)
            {
                if (ok)
                {
                    _durableVersion = version;
                    _durableBlob = blob;
                    _saveFailing = false;

                    double lag = System.Diagnostics.Stopwatch.GetElapsedTime(_oldestPendingAt).TotalMilliseconds;
                    _saves++;
                    _lastPersistMs = lag;
                    _maxPersistMs = Math.Max(_maxPersistMs, lag);

                    // A change still pending arrived after this save took its snapshot: at the earliest then.
                    _oldestPendingAt = snapshotAt;
                }

                for (int i = _waiters.Count - 1; i >= 0; i--)
                {
                    if (_waiters[i].Version <= version)
                    {
                        released.Add(_waiters[i].Done);
                        _waiters.RemoveAt(i);
                    }
                }

                if (!ok)
                {
                    _flushing = false;
                }
            }

            foreach (TaskCompletionSource<bool> done in released)
            {
                done.TrySetResult(ok);
            }

            if (!ok)
            {
                return false;
            }
        }
    }

    /// <summary>Under the engine lock: before a change that may have to be undone, when everything so far is
    /// acknowledged (durable, or answered before the disk), remember the whole state (what a failed save returns to).</summary>
    private void TakeRollbackIfCleanUnsynchronized()
    {
        long version;
        lock (_durableLock)
        {
            if (_pendingVersion != Math.Max(_durableVersion, _acknowledgedVersion))
            {
                return;
            }

            version = _pendingVersion;
        }

        _rollbackPermanent = _engine.DigestCoversAllState ? null : _engine.SerializePersistent();
        _rollback = _engine.SerializeState();
        _rollbackVersion = version;
    }

    /// <summary>A save failed: every change not yet acknowledged is undone (all their answers become
    /// TPM_RC_NV_UNAVAILABLE), so the TPM goes on serving reads and random numbers from exactly what it
    /// acknowledged, and the next change tries the disk again. Changes answered before the disk (the pair's
    /// `pair` durability) are never undone: they stay in memory and their write is retried every second until
    /// the disk takes it.</summary>
    private bool RollBack()
    {
        List<TaskCompletionSource<bool>> released = [];
        bool retry;
        bool kept = false;
        lock (_engineLock)
        {
            long durable;
            long floor;
            lock (_durableLock)
            {
                durable = _durableVersion;
                floor = Math.Max(_durableVersion, _acknowledgedVersion);
            }

            long pending = floor;
            byte[]? pendingBlob = null;
            bool keep;
            lock (_durableLock)
            {
                // Nothing unacknowledged to undo (a background write of acknowledged changes failed), or a state
                // blob the pair's controller set that is to be kept in memory (KeepStateBlobsOnFullDisk).
                keep = _pendingVersion == floor || _keepingStateBlob;
            }

            if (keep)
            {
                lock (_durableLock)
                {
                    pending = _pendingVersion;
                    pendingBlob = _pendingBlob;
                    kept = _keepingStateBlob;
                    if (kept)
                    {
                        _acknowledgedVersion = _pendingVersion;
                    }
                }
            }
            else if (_rollback is not null && _rollbackVersion == floor)
            {
                if (_rollbackPermanent is not null)
                {
                    // libtpms: its NV as it was, then the volatile state on top (a migration's sequence).
                    VtpmEngine replacement = _engine.WithPersistent(_rollbackPermanent);
                    if (!ReferenceEquals(replacement, _engine))
                    {
                        _engine.Dispose();
                        _engine = replacement;
                    }
                }

                _engine.RestoreState(_rollback);
                pendingBlob = floor > durable ? _engine.SerializePersistent() : null;
            }
            else if (floor == durable && _durableBlob is not null)
            {
                // No snapshot matches the disk: reload it, as after a power loss.
                Console.Error.WriteLine("fastpath: vtpm: reloading the durable state after a failed write (volatile state is reset)");
                _engine.Dispose();
                _engine = CreateEngine(_durableBlob);
                _engine.PowerOn();
            }
            else
            {
                // Changes answered before the disk, and maybe a refused one after them with no snapshot between (a
                // race of an early answer with a waiting change): keeping everything loses nothing acknowledged.
                lock (_durableLock)
                {
                    pending = _pendingVersion;
                    pendingBlob = _pendingBlob;
                    if (pending > floor)
                    {
                        Console.Error.WriteLine("fastpath: vtpm: a refused change could not be undone apart from acknowledged ones; it is kept");
                    }
                }
            }

            lock (_durableLock)
            {
                _rollback = null;
                _rollbackPermanent = null;
                _pendingBlob = pendingBlob;
                _pendingVersion = pending;
                _saveFailing = true;
                foreach ((long _, TaskCompletionSource<bool> done) in _waiters)
                {
                    released.Add(done);
                }

                _waiters.Clear();
                _flushing = false;
                retry = _pendingVersion > _durableVersion && !_retryScheduled;
                _retryScheduled |= retry;
            }
        }

        foreach (TaskCompletionSource<bool> done in released)
        {
            done.TrySetResult(kept);
        }

        if (retry)
        {
            _ = RetrySaveAsync();
        }

        return kept;
    }

    /// <summary>Acknowledged changes are only in memory after a failed save: write them again in a second (and so
    /// on, one retry at a time) until the disk takes them, even if no command comes to trigger a save.</summary>
    private async Task RetrySaveAsync()
    {
        await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        lock (_durableLock)
        {
            _retryScheduled = false;
            if (_disposed || _durableVersion >= _pendingVersion || _pendingBlob is null || _flushing)
            {
                return;
            }

            _flushing = true;
        }

        FlushLoop(long.MaxValue);
    }

    internal override void SetLocality(byte locality)
    {
        lock (_engineLock)
        {
            _engine.Locality = locality;
        }
    }

    /// <summary>CMD_INIT: a power cycle, except right after a volatile blob was set, which it resumes as swtpm
    /// does (a migration's STOP, SET_STATEBLOB, INIT must not lose the volatile state it just moved).</summary>
    internal override void PowerCycle()
    {
        lock (_engineLock)
        {
            if (_resumeOnInit)
            {
                _resumeOnInit = false;
                return;
            }

            _engine.PowerOn();
        }
    }

    internal override void RequestShutdown() => _shutdown.TrySetResult();

    internal override byte[] GetStateBlob(byte type)
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
    /// (full) blob restores everything. Returns false when the blob does not parse; otherwise durable when
    /// the returned task completes with true.</summary>
    internal override async ValueTask<bool> SetStateBlobAsync(byte type, byte[] blob)
    {
        long version;
        lock (_engineLock)
        {
            if (_store is not null && type is ControlCommand.BlobPermanent or ControlCommand.BlobVolatile)
            {
                TakeRollbackIfCleanUnsynchronized();
            }

            try
            {
                if (type == ControlCommand.BlobPermanent)
                {
                    VtpmEngine replacement = _engine.WithPersistent(blob);
                    if (!ReferenceEquals(replacement, _engine))
                    {
                        _engine.Dispose();
                        _engine = replacement;
                    }

                    _resumeOnInit = false;
                }
                else if (type == ControlCommand.BlobVolatile)
                {
                    _engine.RestoreState(blob);
                    _resumeOnInit = true;
                }
                else
                {
                    return type == ControlCommand.BlobSaveState;
                }
            }
            catch (InvalidDataException)
            {
                return false;
            }

            if (_store is null)
            {
                return true;
            }

            // A permanent blob is what the store keeps as it is; a volatile one leaves the permanent state as it
            // was, so a migration (permanent, then volatile) costs one durable write, not two.
            byte[] persistent = type == ControlCommand.BlobPermanent ? blob : _engine.SerializePersistent();
            bool unchanged;
            lock (_durableLock)
            {
                // Against the newest state known, pending or durable: a resync of an instance that already has the
                // source's permanent state (every pair start) writes nothing, so it works on a full disk.
                byte[]? newest = _pendingVersion > _durableVersion ? _pendingBlob : _durableBlob;
                unchanged = newest is not null && (persistent.AsSpan().SequenceEqual(newest) || LibtpmsEngine.OnlyOrderlyDataDiffers(newest, persistent));
            }

            if (!unchanged)
            {
                OnPersistentChange(persistent);
            }

            lock (_durableLock)
            {
                version = _pendingVersion;
            }
        }

        if (!KeepStateBlobsOnFullDisk)
        {
            return await WaitDurableAsync(version).ConfigureAwait(false);
        }

        lock (_durableLock)
        {
            _keepingStateBlob = true;
        }

        try
        {
            return await WaitDurableAsync(version).ConfigureAwait(false);
        }
        finally
        {
            lock (_durableLock)
            {
                _keepingStateBlob = false;
            }
        }
    }

    /// <summary>A pair instance (set by <see cref="Pair.InstanceServer"/>): a state blob the controller sets (a
    /// resync, a rejoin, the hand-over after TPM2_Startup) that the disk refuses is kept in memory and its write
    /// retried, as the pair's `pair` durability keeps an acknowledged change, instead of being refused; the pair
    /// would otherwise drop an instance at every hand-over while the disk is full, and could not run Startup
    /// when the state must first move to new files (the older one-file format). Changes made by TPM commands are
    /// still refused and undone.</summary>
    public bool KeepStateBlobsOnFullDisk { get; init; }

    /// <summary>The master's side of a hand-over: the state digest (32 bytes) followed by the volatile blob, taken
    /// together under the engine lock.</summary>
    internal byte[] TakeVolatile()
    {
        lock (_engineLock)
        {
            byte[] digest = _engine.StateDigest();
            byte[] blob = _engine.SerializeState();
            return [.. digest, .. blob];
        }
    }

    /// <summary>The slave's side of a hand-over: when this TPM holds the permanent state whose digest is
    /// <paramref name="digest"/>, it resumes from the master's volatile blob (DRBG, sessions, objects, PCRs). False
    /// when the digest differs or the blob is refused; true once any change is as durable as asked.</summary>
    internal bool AdoptVolatile(ReadOnlySpan<byte> digest, byte[] blob, bool durable)
    {
        long version;
        lock (_engineLock)
        {
            if (!_engine.StateDigest().AsSpan().SequenceEqual(digest))
            {
                return false;
            }

            try
            {
                _engine.RestoreState(blob);
            }
            catch (InvalidDataException)
            {
                return false;
            }

            _resumeOnInit = false;
            lock (_durableLock)
            {
                version = _pendingVersion;
            }
        }

        if (durable)
        {
            return WaitDurable(version);
        }

        RequestFlush(version);
        return true;
    }

    /// <summary>SHA-256 of the engine's full canonical state (used by tests and by the pair to compare replicas).</summary>
    public byte[] StateDigest()
    {
        lock (_engineLock)
        {
            return _engine.StateDigest();
        }
    }

    /// <summary>Whether <see cref="StateDigest"/> covers the volatile state too.</summary>
    public bool DigestCoversAllState => _engine.DigestCoversAllState;

    private VtpmEngine CreateEngine(byte[]? persistent)
    {
        VtpmEngine engine = new LibtpmsEngine(persistent, _store is null ? null : OnPersistentChange);
        engine.FailureObserved = exception => Console.Error.WriteLine($"fastpath: vtpm: command failed inside the engine: {exception}");
        if (persistent is null && _store is not null)
        {
            // A freshly manufactured TPM is durable before its first command is answered.
            _durableBlob = engine.SerializePersistent();
            _store.Save(_durableBlob);
        }

        return engine;
    }
}
