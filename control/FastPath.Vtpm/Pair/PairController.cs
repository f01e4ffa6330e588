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
/// global order, RANDOM on both with the random number the master generated (its DRBG entropy, sent to the slave
/// with the command, so the slave replays exactly what the master consumes while both run in parallel), answers
/// with the master's response and treats a different slave response as a slave fault (resync). An instance that
/// dies or hangs is dropped, restarted and resynced by a full-state transfer (GET/SET_STATEBLOB) from the survivor.
/// </summary>
/// <remarks>Thread-safe: READs run concurrently; WRITE/RANDOM, control commands, resyncs and rejoins hold
/// <see cref="_order"/> (the global order). Membership (which instances hold every acknowledged change) is
/// written durably to DIR/pair before a command applied by fewer instances is acknowledged, so a restart of the
/// whole pair resyncs from an instance that has everything.</remarks>
public sealed class PairController : TpmBackend, IDisposable
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
    private string _savedMembership = "";
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
    /// <param name="engine">The engine both instances run.</param>
    public PairController(string stateDirectory, string executable, IReadOnlyList<string> prefix, TimeSpan timeout, PairDurability durability = PairDurability.Pair, VtpmEngineKind engine = VtpmEngineKind.Libtpms)
        : this(stateDirectory, (name, directory) => new FastpathInstance(name, directory, executable, prefix, timeout, engine), durability)
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

    /// <summary>Starts both instances, brings the one that lacks acknowledged changes (or the second of a new
    /// pair) to the state of the other, then opens P (commands), P+1 (control) and P+2 (status) on
    /// <paramref name="address"/>.</summary>
    public void Start(IPAddress address, int port)
    {
        if (port is <= 0 or >= 65534)
        {
            throw new ArgumentOutOfRangeException(nameof(port), port, "the command port must be 1..65533 (control P+1, status P+2)");
        }

        byte[]? saved = _membership.Load();
        string holders = saved is null ? "a" : Encoding.ASCII.GetString(saved);
        PairMember source = holders.StartsWith('b') ? _members[1] : _members[0];
        PairMember other = Other(source);
        source.Start(TimeSpan.FromSeconds(30));
        other.Start(TimeSpan.FromSeconds(30));
        Transfer(source, other);
        source.Live = true;
        other.Live = true;
        SaveMembership();
        _lag = 0;

        _commands = new CommandListener(this);
        _control = new ControlListener(this);
        _status = new StatusListener(this);
        _commands.Listen(new IPEndPoint(address, port));
        _control.Listen(new IPEndPoint(address, port + 1), sendOptions: SwtpmServer.SendOptions, receiveOptions: SwtpmServer.ReceiveOptions);
        _status.Start(new IPEndPoint(address, port + 2));
    }

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

    /// <summary>READ: the flagged master only; a failure before the answer is retried on the other instance,
    /// which is safe because a READ changed nothing.</summary>
    private int Read(ReadOnlySpan<byte> command, Span<byte> response)
    {
        while (FlagMaster() is { } master)
        {
            InstanceConnection? link = TrySend(master, command, 0, null);
            if (link is not null && TryReceive(master, link, out ExecuteAnswer answer))
            {
                Interlocked.Increment(ref master.Reads);
                int written = answer.CopyResponse(response);
                master.Return(link);
                if (written >= TpmConstants.HeaderSize && CommandClassification.CountsAgainstLockout(BinaryPrimitives.ReadUInt32BigEndian(response[6..])))
                {
                    // A wrong password on a lockout-protected entity: the master counted it, the slave must too.
                    CopyLockoutCount(master);
                }

                return written;
            }
        }

        return Bare(response, RcRetry);
    }

    /// <summary>Brings the slave to the master's state after a READ changed the master's dictionary-attack count
    /// (rare: a wrong password), under the global order so no WRITE interleaves with the copy.</summary>
    private void CopyLockoutCount(PairMember master)
    {
        _order.Wait();
        try
        {
            PairMember slave = Other(master);
            if (master.Live && slave.Live)
            {
                ResyncLocked(master, slave);
            }
        }
        finally
        {
            _order.Release();
        }
    }

    /// <summary>WRITE and RANDOM: sent to both instances before either answer is awaited, so they run in
    /// parallel; the global order is the caller's lock. A RANDOM command carries the 32 entropy bytes the master
    /// generated (announced with its previous RANDOM answer), so the slave consumes exactly the master's random
    /// number without waiting for the master to finish.</summary>
    private int Replicate(CommandClass kind, ReadOnlySpan<byte> command, Span<byte> response)
    {
        PairMember? master = FlagMaster();
        if (master is null)
        {
            return Bare(response, RcRetry);
        }

        PairMember slave = Other(master);
        if (!slave.Live)
        {
            return Alone(master, command, response);
        }

        if (master.Instance.DrbgLockstep && slave.Instance.DrbgLockstep)
        {
            if (LockstepClassification.NeedsHandover(command))
            {
                return RandomByCopy(master, slave, command, response);
            }

            // Both draw the same numbers from the same DRBG state: run in parallel, responses compared below.
            kind = CommandClass.Write;
        }
        else if (kind == CommandClass.Random && !(master.Instance.CanReplayEntropy && slave.Instance.CanReplayEntropy))
        {
            return RandomByCopy(master, slave, command, response);
        }

        byte[]? entropy = null;
        if (kind == CommandClass.Random)
        {
            entropy = TakeEntropy(master);
            if (entropy is null)
            {
                return slave.Live ? Alone(slave, command, response) : Bare(response, RcRetry);
            }
        }

        byte durable = _durability == PairDurability.Sync ? InstanceWire.FlagDurable : (byte)0;
        byte next = kind == CommandClass.Random ? InstanceWire.FlagNextEntropy : (byte)0;
        InstanceConnection? onMaster = TrySend(master, command, (byte)(durable | next), entropy);
        InstanceConnection? onSlave = TrySend(slave, command, durable, entropy);
        ExecuteAnswer fromMaster = default;
        ExecuteAnswer fromSlave = default;
        bool masterApplied = onMaster is not null && TryReceive(master, onMaster, out fromMaster);
        bool slaveApplied = onSlave is not null && TryReceive(slave, onSlave, out fromSlave);
        try
        {
            if (masterApplied && kind == CommandClass.Random)
            {
                master.NextEntropy = fromMaster.NextEntropy.ToArray();
            }

            if (masterApplied && slaveApplied)
            {
                Interlocked.Increment(ref master.Writes);
                Interlocked.Increment(ref slave.Writes);
                string? divergence = Diverged(kind, fromMaster, fromSlave);
                int written = fromMaster.CopyResponse(response);
                if (divergence is not null)
                {
                    Interlocked.Increment(ref slave.Divergences);
                    uint code = command.Length >= 10 ? BinaryPrimitives.ReadUInt32BigEndian(command[6..]) : 0;
                    Console.Error.WriteLine($"fastpath: vtpm pair: instance {slave.Name} diverged from {master.Name} on command 0x{code:x} ({divergence}); resyncing it");
                    ResyncLocked(master, slave);
                }

                return written;
            }

            if (!masterApplied && !slaveApplied)
            {
                return Bare(response, RcRetry);
            }

            // One instance failed (it is dropped and will be resynced from the other): the survivor applied the
            // command and answers alone, once the change is on its disk.
            PairMember survivor = masterApplied ? master : slave;
            int length = masterApplied ? fromMaster.CopyResponse(response) : fromSlave.CopyResponse(response);
            return DurableAlone(survivor) ? Acknowledge(survivor, length) : NvUnavailable(response);
        }
        finally
        {
            if (masterApplied)
            {
                master.Return(onMaster!);
            }

            if (slaveApplied)
            {
                slave.Return(onSlave!);
            }
        }
    }

    private static string? Diverged(CommandClass kind, in ExecuteAnswer master, in ExecuteAnswer slave)
    {
        if (!master.Response.SequenceEqual(slave.Response))
        {
            return "different response";
        }

        if (master.Drawn != 0 || slave.Drawn != 0)
        {
            // Only possible for a WRITE: the table is wrong for this command, so the two drew different bytes.
            return $"a {kind.ToString().ToUpperInvariant()} command drew its own random bytes";
        }

        return master.Unused != slave.Unused ? $"used {32 - slave.Unused} of the master's entropy bytes where the master used {32 - master.Unused}" : null;
    }

    /// <summary>A lone survivor: it draws its own entropy and answers only once the change is on its disk.</summary>
    private int Alone(PairMember member, ReadOnlySpan<byte> command, Span<byte> response)
    {
        InstanceConnection? link = TrySend(member, command, InstanceWire.FlagDurable, null);
        if (link is null || !TryReceive(member, link, out ExecuteAnswer answer))
        {
            return Bare(response, RcRetry);
        }

        int written = answer.CopyResponse(response);
        member.Return(link);
        return Acknowledge(member, written);
    }

    private int Acknowledge(PairMember member, int length)
    {
        Interlocked.Increment(ref member.Writes);
        Interlocked.Increment(ref _lag);
        return length;
    }

    /// <summary>Makes everything the survivor applied durable before it acknowledges alone (pair mode applied the
    /// command without waiting for the disk). False when the survivor failed too or its disk refused.</summary>
    private bool DurableAlone(PairMember survivor)
    {
        if (_durability == PairDurability.Sync)
        {
            return true;
        }

        try
        {
            return survivor.Flush();
        }
        catch (InstanceFailedException exception)
        {
            Fail(survivor, exception.Message);
            return false;
        }
    }

    /// <summary>The master's announced entropy, or fresh entropy from it when it has announced none (its first
    /// RANDOM command after a start). Null when the master failed meanwhile.</summary>
    private byte[]? TakeEntropy(PairMember master)
    {
        byte[]? entropy = master.NextEntropy;
        master.NextEntropy = null;
        if (entropy is not null)
        {
            return entropy;
        }

        try
        {
            return master.Entropy();
        }
        catch (InstanceFailedException exception)
        {
            Fail(master, exception.Message);
        }

        return null;
    }

    private InstanceConnection? TrySend(PairMember member, ReadOnlySpan<byte> command, byte flags, byte[]? entropy)
    {
        try
        {
            return member.Send(flags, entropy, command);
        }
        catch (InstanceFailedException exception)
        {
            Fail(member, exception.Message);
            return null;
        }
    }

    /// <summary>Receives and parses an execute answer; a failed instance is dropped (membership saved before this
    /// returns) and false returned.</summary>
    private bool TryReceive(PairMember member, InstanceConnection link, out ExecuteAnswer answer)
    {
        answer = default;
        try
        {
            member.Receive(link);
            if (member.Instance.TryParse(link, out answer))
            {
                return true;
            }

            member.Discard(link);
            throw new InstanceFailedException(member.Name, "sent a malformed or refused execute answer");
        }
        catch (InstanceFailedException exception)
        {
            Fail(member, exception.Message);
            return false;
        }
    }

    /// <summary>Flags the master for one command (<see cref="PickMaster"/>) and counts the flag the other member missed.</summary>
    internal PairMember? FlagMaster()
    {
        PairMember? master = PickMaster();
        if (master is not null)
        {
            Interlocked.Exchange(ref master.FlagsMissed, 0);
            Interlocked.Increment(ref Other(master).FlagsMissed);
        }

        return master;
    }

    /// <summary>The live instance with the smaller load (outstanding × recent service time); ties alternate. Reads the
    /// counters only, so status and failover may ask without moving the flag.</summary>
    internal PairMember? PickMaster()
    {
        PairMember a = _members[0];
        PairMember b = _members[1];
        if (!a.Live)
        {
            return b.Live ? b : null;
        }

        if (!b.Live)
        {
            return a;
        }

        // A member without a recent sample gets the flag once, so its average catches up with the present: after
        // 100 ms, or after missing 64 flags in a row, whichever comes first. Under a fast burst the time bound alone
        // is too long: one slow first command (a cold start) kept an instance out of a whole 60 ms burst of reads.
        bool staleA = a.LoadIsStale(PairMember.StaleLoad) || Interlocked.Read(ref a.FlagsMissed) >= PairMember.StaleFlags;
        bool staleB = b.LoadIsStale(PairMember.StaleLoad) || Interlocked.Read(ref b.FlagsMissed) >= PairMember.StaleFlags;
        if (staleA != staleB)
        {
            return staleA ? a : b;
        }

        double loadA = a.Load;
        double loadB = b.Load;
        if (loadA < loadB)
        {
            return a;
        }

        if (loadB < loadA)
        {
            return b;
        }

        return (Interlocked.Increment(ref _tieBreak) & 1) == 0 ? a : b;
    }

    private PairMember Other(PairMember member) => ReferenceEquals(member, _members[0]) ? _members[1] : _members[0];

    /// <summary>Drops an instance: not live any more, membership durable before any caller acknowledges, then
    /// (once per failure) kill, restart and rejoin in the background.</summary>
    internal void Fail(PairMember member, string reason)
    {
        bool wasLive;
        lock (_failLock)
        {
            // An exit event and a failed call can report the same death at once: only one of them may restart it.
            wasLive = member.Live;
            member.Live = false;
        }

        SaveMembership();
        if (!wasLive || _stop.IsCancellationRequested)
        {
            return;
        }

        Interlocked.Increment(ref _failovers);
        Console.Error.WriteLine($"fastpath: vtpm pair: instance {member.Name} (pid {member.ProcessId}) failed: {reason}; {Other(member).Name} serves alone");
        member.Kill();
        _ = Task.Run(() => RejoinAsync(member));
    }

    private void OnExited(PairMember member, Process process)
    {
        if (member.Live && process.Id == member.ProcessId)
        {
            Fail(member, $"process exited with {process.ExitCode}");
        }
    }

    /// <summary>Restart the instance, then under the global order copy the survivor's full state into it and
    /// let it rejoin lockstep. Retries until it works or the controller stops.</summary>
    private async Task RejoinAsync(PairMember member)
    {
        bool running = false;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (!running)
                {
                    Interlocked.Increment(ref member.Restarts);
                    member.Start(TimeSpan.FromSeconds(30));
                    running = true;
                }

                await _order.WaitAsync(_stop.Token).ConfigureAwait(false);
                try
                {
                    PairMember source = Other(member);
                    if (source.Live)
                    {
                        Transfer(source, member);
                        member.Live = true;
                        SaveMembership();
                        Interlocked.Exchange(ref _lag, 0);
                        return;
                    }

                    if (HoldsEverything(member))
                    {
                        // Both died and this one was the last to acknowledge: its disk state is the truth.
                        member.Live = true;
                        SaveMembership();
                        return;
                    }

                    // The survivor died too, holding writes this one lacks: it must come back first.
                }
                finally
                {
                    _order.Release();
                }

                await Task.Delay(50, _stop.Token).ConfigureAwait(false);
            }
            catch (InstanceFailedException exception)
            {
                Console.Error.WriteLine($"fastpath: vtpm pair: rejoining {member.Name} failed: {exception.Message}; retrying");
                member.Kill();
                running = false;
                await Task.Delay(200).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Whether the durable membership record names <paramref name="member"/> (it acknowledged every change).</summary>
    private bool HoldsEverything(PairMember member)
    {
        lock (_membershipLock)
        {
            return _savedMembership.Contains(member.Name, StringComparison.Ordinal);
        }
    }

    /// <summary>Divergence repair under the global order: full state from the master into the slave.</summary>
    private void ResyncLocked(PairMember master, PairMember slave)
    {
        try
        {
            Transfer(master, slave);
        }
        catch (InstanceFailedException exception)
        {
            Fail(slave, exception.Message);
        }
    }

    /// <summary>Copies the full state of <paramref name="source"/> into <paramref name="target"/> through the swtpm
    /// control channel (<see cref="PairStateTransfer"/>) unless their digests already agree and cover the whole
    /// state, then both digests must match. Nothing else runs on either meanwhile (caller holds the order or is starting).</summary>
    private void Transfer(PairMember source, PairMember target)
    {
        long started = Stopwatch.GetTimestamp();
        byte[] sourceDigest = source.Digest();
        if (target.Instance.DigestCoversAllState && target.Digest().AsSpan().SequenceEqual(sourceDigest))
        {
            return;
        }

        int bytes = PairStateTransfer.Copy(source, target);
        if (!target.Digest().AsSpan().SequenceEqual(sourceDigest))
        {
            throw new InstanceFailedException(target.Name, "state digest differs from the source after SET_STATEBLOB");
        }

        Interlocked.Increment(ref _resyncs);
        _lastResync = DateTime.UtcNow;
        _lastResyncMilliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        Console.Error.WriteLine($"fastpath: vtpm pair: {target.Name} resynced from {source.Name} ({bytes} bytes, {_lastResyncMilliseconds:F1} ms)");
    }

    /// <summary>RANDOM with an instance that cannot replay supplied entropy (swtpm): the master runs the command
    /// alone, then its full state (DRBG, sessions, objects) is copied into the slave before the answer leaves.
    /// Correct but slow: two blob round trips, a stop and an init of the slave per RANDOM command, against one
    /// parallel execution with replayed entropy for our own instances; and every command with an authorization
    /// area is RANDOM (<see cref="CommandClassification"/>), password-authorized NV writes included.</summary>
    private int RandomByCopy(PairMember master, PairMember slave, ReadOnlySpan<byte> command, Span<byte> response)
    {
        byte durable = _durability == PairDurability.Sync ? InstanceWire.FlagDurable : (byte)0;
        InstanceConnection? link = TrySend(master, command, durable, null);
        if (link is null || !TryReceive(master, link, out ExecuteAnswer answer))
        {
            // Nothing was acknowledged and the slave did not see the command: it runs there alone.
            return slave.Live ? Alone(slave, command, response) : Bare(response, RcRetry);
        }

        int written = answer.CopyResponse(response);
        master.Return(link);
        Interlocked.Increment(ref master.Writes);
        try
        {
            if (master.Instance.DrbgLockstep && slave.Instance.DrbgLockstep && master.Digest().AsSpan().SequenceEqual(slave.Digest()))
            {
                // The command left the permanent state as both had it (Sign, Quote, Create): the volatile blob suffices.
                PairStateTransfer.CopyVolatile(master, slave);
            }
            else
            {
                PairStateTransfer.Copy(master, slave);
            }

            Interlocked.Increment(ref _handovers);
            Interlocked.Increment(ref slave.Writes);
            return written;
        }
        catch (InstanceFailedException exception) when (exception.Member == master.Name)
        {
            // The master applied the command but cannot hand its state over: it is dropped (and later resynced from
            // the slave), its answer never leaves, and the slave, which never saw the command, runs it alone now, so
            // the command is applied exactly once by the instance that stays.
            Fail(master, exception.Message);
            return slave.Live ? Alone(slave, command, response) : Bare(response, RcRetry);
        }
        catch (InstanceFailedException exception)
        {
            Fail(slave, exception.Message);
            return DurableAlone(master) ? Acknowledge(master, written) : NvUnavailable(response);
        }
    }

    /// <summary>Writes which instances hold every acknowledged change, if that changed (fsync'd before return).</summary>
    private void SaveMembership()
    {
        lock (_membershipLock)
        {
            string holders = string.Concat(_members.Where(m => m.Live).Select(m => m.Name));
            if (holders.Length == 0 || holders == _savedMembership)
            {
                return;
            }

            _membership.Save(Encoding.ASCII.GetBytes(holders));
            _savedMembership = holders;
        }
    }

    /// <summary>Forces a switch: the instance that is master now is dropped (killed), the other serves alone,
    /// and the dropped one restarts and rejoins. Returns its name, or null when only one instance is live.</summary>
    public string? ForceFailover()
    {
        PairMember? master = PickMaster();
        if (master is null || !Other(master).Live)
        {
            return null;
        }

        Fail(master, "forced failover");
        return master.Name;
    }

    /// <summary>The status snapshot served on P+2 (JSON, one line).</summary>
    public string StatusJson()
    {
        PairMember? master = PickMaster();
        var text = new StringBuilder();
        text.Append("{\"members\":[");
        for (int i = 0; i < _members.Length; i++)
        {
            PairMember m = _members[i];
            string role = !m.Live ? "down" : ReferenceEquals(m, master) ? "master" : "slave";
            text.Append(i == 0 ? "" : ",")
                .Append($"{{\"name\":\"{m.Name}\",\"kind\":\"{m.Instance.Kind}\",\"role\":\"{role}\",\"pid\":{m.ProcessId},\"outstanding\":{m.Outstanding},")
                .Append(System.Globalization.CultureInfo.InvariantCulture, $"\"serviceMicros\":{m.EwmaMicros:F1},\"reads\":{Interlocked.Read(ref m.Reads)},\"writes\":{Interlocked.Read(ref m.Writes)},")
                .Append($"\"divergences\":{Interlocked.Read(ref m.Divergences)},\"restarts\":{Interlocked.Read(ref m.Restarts)},")
                .Append(System.Globalization.CultureInfo.InvariantCulture, $"\"persist\":{PersistenceJson(m)}}}");
        }

        string last = _lastResync is { } at ? $"\"{at:O}\"" : "null";
        text.Append($"],\"durability\":\"{(_durability == PairDurability.Sync ? "sync" : "pair")}\",\"failovers\":{Interlocked.Read(ref _failovers)},\"resyncs\":{Interlocked.Read(ref _resyncs)},\"handovers\":{Interlocked.Read(ref _handovers)},\"lag\":{Interlocked.Read(ref _lag)},")
            .Append(System.Globalization.CultureInfo.InvariantCulture, $"\"lastResync\":{last},\"lastResyncMs\":{_lastResyncMilliseconds:F1}}}");
        return text.ToString();
    }

    /// <summary>An instance's durable saves and persistence lag (ms), or null (down, swtpm, or not answering now:
    /// a status request never fails an instance).</summary>
    private static string PersistenceJson(PairMember member)
    {
        if (!member.Live)
        {
            return "null";
        }

        try
        {
            return member.Instance.Persistence() is { } p
                ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{{\"saves\":{p.Saves},\"lastMs\":{p.LastMs:F2},\"maxMs\":{p.MaxMs:F2}}}")
                : "null";
        }
        catch (Exception exception) when (exception is IOException or System.Net.Sockets.SocketException or InvalidDataException or ObjectDisposedException or InstanceFailedException)
        {
            return "null";
        }
    }

    /// <summary>Both instances' state digests (hex; empty for an instance that is down).</summary>
    public async Task<string> DigestsJsonAsync()
    {
        var text = new StringBuilder("{");
        await _order.WaitAsync().ConfigureAwait(false);
        try
        {
            for (int i = 0; i < _members.Length; i++)
            {
                string hex = "";
                if (_members[i].Live)
                {
                    try
                    {
                        hex = Convert.ToHexString(_members[i].Digest());
                    }
                    catch (InstanceFailedException exception)
                    {
                        Fail(_members[i], exception.Message);
                    }
                }

                text.Append(i == 0 ? "" : ",").Append($"\"{_members[i].Name}\":\"{hex}\"");
            }
        }
        finally
        {
            _order.Release();
        }

        return text.Append('}').ToString();
    }

    /// <summary>Test hook (FASTPATH_VTPM_TEST_HOOKS=1): runs StirRandom on one instance only, so its DRBG
    /// silently differs from the other's, as a corrupted replica would.</summary>
    public async Task<bool> CorruptAsync(string name)
    {
        PairMember? member = _members.FirstOrDefault(m => m.Name == name && m.Live);
        if (member is null)
        {
            return false;
        }

        byte[] stir = [0x80, 0x01, 0, 0, 0, 0x10, 0, 0, 0x01, 0x46, 0, 4, 1, 2, 3, 4];
        await _order.WaitAsync().ConfigureAwait(false);
        try
        {
            InstanceConnection? link = TrySend(member, stir, 0, null);
            if (link is null || !TryReceive(member, link, out ExecuteAnswer result))
            {
                return false;
            }

            bool ok = BinaryPrimitives.ReadUInt32BigEndian(result.Response[6..]) == 0;
            member.Return(link);
            return ok;
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
        foreach (PairMember member in _members)
        {
            member.Live = false;
            member.Dispose();
        }

        _stop.Dispose();
    }
}
