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
/// global order, RANDOM on the master first and replays its random bytes into the slave, answers with the
/// master's response and treats a different slave response as a slave fault (resync). An instance that dies or
/// hangs is dropped, restarted and resynced by a full-state transfer from the survivor.
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
    private readonly TimeSpan _timeout;
    private readonly TaskCompletionSource _shutdown = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private CommandListener? _commands;
    private ControlListener? _control;
    private StatusListener? _status;
    private string _savedMembership = "";
    private long _failovers;
    private long _resyncs;
    private long _lag;
    private long _tieBreak;
    private DateTime? _lastResync;
    private double _lastResyncMilliseconds;

    /// <param name="stateDirectory">DIR: instances keep their state in DIR/a and DIR/b, membership in DIR/pair.</param>
    /// <param name="executable">The program that runs an instance (the <c>fastpath</c> binary).</param>
    /// <param name="prefix">Its leading arguments (<c>vtpm instance</c>); <c>--state</c> and <c>--socket</c> follow.</param>
    /// <param name="timeout">An instance that does not answer within this is treated as hung.</param>
    public PairController(string stateDirectory, string executable, IReadOnlyList<string> prefix, TimeSpan timeout)
    {
        _timeout = timeout;
        _members =
        [
            new PairMember("a", Path.Combine(stateDirectory, "a"), executable, prefix),
            new PairMember("b", Path.Combine(stateDirectory, "b"), executable, prefix),
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
        Transfer(source, other).AsTask().GetAwaiter().GetResult();
        source.Live = true;
        other.Live = true;
        SaveMembership();
        _lag = 0;

        _commands = new CommandListener(this);
        _control = new ControlListener(this);
        _status = new StatusListener(this);
        _commands.Listen(new IPEndPoint(address, port), sendOptions: SwtpmServer.SendOptions, receiveOptions: SwtpmServer.ReceiveOptions);
        _control.Listen(new IPEndPoint(address, port + 1), sendOptions: SwtpmServer.SendOptions, receiveOptions: SwtpmServer.ReceiveOptions);
        _status.Start(new IPEndPoint(address, port + 2));
    }

    internal override async ValueTask<int> ExecuteAsync(byte[] command, int length, byte[] response)
    {
        CommandClass kind = CommandClassification.Classify(command.AsSpan(0, length));
        if (kind == CommandClass.Read)
        {
            return await ReadAsync(command, length, response).ConfigureAwait(false);
        }

        await _order.WaitAsync().ConfigureAwait(false);
        try
        {
            return await ReplicateAsync(kind, command, length, response).ConfigureAwait(false);
        }
        finally
        {
            _order.Release();
        }
    }

    /// <summary>READ: the flagged master only; a failure before the answer is retried on the other instance,
    /// which is safe because a READ changed nothing.</summary>
    private async ValueTask<int> ReadAsync(byte[] command, int length, byte[] response)
    {
        while (PickMaster() is { } master)
        {
            try
            {
                Executed result = await RunAsync(master, command, length, null).ConfigureAwait(false);
                Interlocked.Increment(ref master.Reads);
                result.Response.CopyTo(response, 0);
                return result.Response.Length;
            }
            catch (InstanceFailedException exception)
            {
                Fail(master, exception.Message);
            }
        }

        return Bare(response, RcRetry);
    }

    private async ValueTask<int> ReplicateAsync(CommandClass kind, byte[] command, int length, byte[] response)
    {
        PairMember? master = PickMaster();
        if (master is null)
        {
            return Bare(response, RcRetry);
        }

        PairMember slave = Other(master);
        if (!slave.Live)
        {
            return await AloneAsync(master, command, length, response).ConfigureAwait(false);
        }

        Executed fromMaster;
        Executed fromSlave;
        if (kind == CommandClass.Write)
        {
            // Both in parallel: the global order is this lock, and neither draws entropy.
            ValueTask<Executed> onMaster = RunAsync(master, command, length, null);
            ValueTask<Executed> onSlave = RunAsync(slave, command, length, null);
            Executed? m = await Settle(master, onMaster).ConfigureAwait(false);
            Executed? s = await Settle(slave, onSlave).ConfigureAwait(false);
            if (m is null || s is null)
            {
                // The survivor applied it (it was sent to both): its response is the answer.
                Executed? survivor = m ?? s;
                if (survivor is null)
                {
                    return Bare(response, RcRetry);
                }

                Interlocked.Increment(ref _lag);
                return Answer(survivor.Value, m is null ? slave : master, response);
            }

            fromMaster = m.Value;
            fromSlave = s.Value;
        }
        else
        {
            Executed? m = await Settle(master, RunAsync(master, command, length, null)).ConfigureAwait(false);
            if (m is null)
            {
                // The master is gone (and will be resynced from the slave): the slave runs it as the new master.
                return await AloneAsync(slave, command, length, response).ConfigureAwait(false);
            }

            Executed? s = await Settle(slave, RunAsync(slave, command, length, m.Value.Random)).ConfigureAwait(false);
            if (s is null)
            {
                Interlocked.Increment(ref _lag);
                return Answer(m.Value, master, response);
            }

            fromMaster = m.Value;
            fromSlave = s.Value;
        }

        Interlocked.Increment(ref master.Writes);
        Interlocked.Increment(ref slave.Writes);
        string? divergence = Diverged(kind, fromMaster, fromSlave);
        if (divergence is not null)
        {
            Interlocked.Increment(ref slave.Divergences);
            uint code = length >= 10 ? BinaryPrimitives.ReadUInt32BigEndian(command.AsSpan(6)) : 0;
            Console.Error.WriteLine($"fastpath: vtpm pair: instance {slave.Name} diverged from {master.Name} on command 0x{code:x} ({divergence}); resyncing it");
            await ResyncLockedAsync(master, slave).ConfigureAwait(false);
        }

        fromMaster.Response.CopyTo(response, 0);
        return fromMaster.Response.Length;
    }

    private static string? Diverged(CommandClass kind, Executed master, Executed slave)
    {
        if (!master.Response.AsSpan().SequenceEqual(slave.Response))
        {
            return "different response";
        }

        if (kind == CommandClass.Write && (master.Random.Length != 0 || slave.Random.Length != 0))
        {
            // A WRITE drew entropy: the table is wrong for this command, so the two drew different bytes.
            return "a WRITE command consumed random bytes";
        }

        return slave.UnusedReplay != 0 ? $"{slave.UnusedReplay} replayed random bytes left unused" : null;
    }

    /// <summary>A lone survivor: the instance fsyncs before it answers (it always group-commits).</summary>
    private async ValueTask<int> AloneAsync(PairMember member, byte[] command, int length, byte[] response)
    {
        Executed? result = await Settle(member, RunAsync(member, command, length, null)).ConfigureAwait(false);
        if (result is null)
        {
            return Bare(response, RcRetry);
        }

        Interlocked.Increment(ref _lag);
        return Answer(result.Value, member, response);
    }

    private static int Answer(Executed result, PairMember member, byte[] response)
    {
        Interlocked.Increment(ref member.Writes);
        result.Response.CopyTo(response, 0);
        return result.Response.Length;
    }

    /// <summary>Awaits a call; a failed instance is dropped (membership saved before this returns) and null returned.</summary>
    private async ValueTask<Executed?> Settle(PairMember member, ValueTask<Executed> call)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (InstanceFailedException exception)
        {
            Fail(member, exception.Message);
            return null;
        }
    }

    private readonly record struct Executed(byte[] Response, byte[] Random, uint UnusedReplay);

    private async ValueTask<Executed> RunAsync(PairMember member, byte[] command, int length, byte[]? replay)
    {
        int replayLength = replay?.Length ?? 0;
        byte[] payload = new byte[4 + replayLength + length];
        BinaryPrimitives.WriteUInt32BigEndian(payload, replay is null ? uint.MaxValue : (uint)replay.Length);
        replay?.CopyTo(payload, 4);
        command.AsSpan(0, length).CopyTo(payload.AsSpan(4 + replayLength));
        (byte status, byte[] answer) = await member.CallAsync(InstanceWire.Execute, payload, _timeout).ConfigureAwait(false);
        if (status != InstanceWire.StatusOk || answer.Length < 8)
        {
            throw new InstanceFailedException(member.Name, "refused an execute request");
        }

        int responseLength = (int)BinaryPrimitives.ReadUInt32BigEndian(answer);
        if (responseLength > answer.Length - 8)
        {
            throw new InstanceFailedException(member.Name, "sent a malformed execute answer");
        }

        return new Executed(
            answer.AsSpan(4, responseLength).ToArray(),
            answer.AsSpan(4 + responseLength, answer.Length - 8 - responseLength).ToArray(),
            BinaryPrimitives.ReadUInt32BigEndian(answer.AsSpan(answer.Length - 4)));
    }

    /// <summary>The live instance with the smaller load (outstanding × recent service time); ties alternate.</summary>
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
        bool wasLive = member.Live;
        member.Live = false;
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
                        await Transfer(source, member).ConfigureAwait(false);
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
    private async ValueTask ResyncLockedAsync(PairMember master, PairMember slave)
    {
        try
        {
            await Transfer(master, slave).ConfigureAwait(false);
        }
        catch (InstanceFailedException exception)
        {
            Fail(slave, exception.Message);
        }
    }

    /// <summary>GET_STATEBLOB (full) from <paramref name="source"/>, SET_STATEBLOB into <paramref name="target"/>,
    /// then both digests must match. Nothing else runs on either meanwhile (caller holds the order or is starting).</summary>
    private async ValueTask Transfer(PairMember source, PairMember target)
    {
        long started = Stopwatch.GetTimestamp();
        byte[] targetDigest = await DigestAsync(target).ConfigureAwait(false);
        byte[] sourceDigest = await DigestAsync(source).ConfigureAwait(false);
        if (targetDigest.AsSpan().SequenceEqual(sourceDigest))
        {
            return;
        }

        (byte status, byte[] blob) = await source.CallAsync(InstanceWire.GetBlob, new[] { ControlCommand.BlobVolatile }, _timeout).ConfigureAwait(false);
        if (status != InstanceWire.StatusOk)
        {
            throw new InstanceFailedException(source.Name, "refused GET_STATEBLOB");
        }

        byte[] payload = new byte[1 + blob.Length];
        payload[0] = ControlCommand.BlobVolatile;
        blob.CopyTo(payload, 1);
        (status, _) = await target.CallAsync(InstanceWire.SetBlob, payload, _timeout).ConfigureAwait(false);
        if (status != InstanceWire.StatusOk)
        {
            throw new InstanceFailedException(target.Name, "refused SET_STATEBLOB");
        }

        targetDigest = await DigestAsync(target).ConfigureAwait(false);
        if (!targetDigest.AsSpan().SequenceEqual(sourceDigest))
        {
            throw new InstanceFailedException(target.Name, "state digest differs from the source after SET_STATEBLOB");
        }

        Interlocked.Increment(ref _resyncs);
        _lastResync = DateTime.UtcNow;
        _lastResyncMilliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        Console.Error.WriteLine($"fastpath: vtpm pair: {target.Name} resynced from {source.Name} ({blob.Length} bytes, {_lastResyncMilliseconds:F1} ms)");
    }

    internal async ValueTask<byte[]> DigestAsync(PairMember member)
    {
        (byte status, byte[] digest) = await member.CallAsync(InstanceWire.Digest, Array.Empty<byte>(), _timeout).ConfigureAwait(false);
        return status == InstanceWire.StatusOk ? digest : throw new InstanceFailedException(member.Name, "refused the digest request");
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
                .Append($"{{\"name\":\"{m.Name}\",\"role\":\"{role}\",\"pid\":{m.ProcessId},\"outstanding\":{m.Outstanding},")
                .Append(System.Globalization.CultureInfo.InvariantCulture, $"\"serviceMicros\":{m.EwmaMicros:F1},\"reads\":{Interlocked.Read(ref m.Reads)},\"writes\":{Interlocked.Read(ref m.Writes)},")
                .Append($"\"divergences\":{Interlocked.Read(ref m.Divergences)},\"restarts\":{Interlocked.Read(ref m.Restarts)}}}");
        }

        string last = _lastResync is { } at ? $"\"{at:O}\"" : "null";
        text.Append($"],\"failovers\":{Interlocked.Read(ref _failovers)},\"resyncs\":{Interlocked.Read(ref _resyncs)},\"lag\":{Interlocked.Read(ref _lag)},")
            .Append(System.Globalization.CultureInfo.InvariantCulture, $"\"lastResync\":{last},\"lastResyncMs\":{_lastResyncMilliseconds:F1}}}");
        return text.ToString();
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
                        hex = Convert.ToHexString(await DigestAsync(_members[i]).ConfigureAwait(false));
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
            Executed result = await RunAsync(member, stir, stir.Length, null).ConfigureAwait(false);
            return BinaryPrimitives.ReadUInt32BigEndian(result.Response.AsSpan(6)) == 0;
        }
        finally
        {
            _order.Release();
        }
    }

    internal override void SetLocality(byte locality) => Broadcast(InstanceWire.Locality, [locality]);

    internal override void PowerCycle() => Broadcast(InstanceWire.PowerCycle, []);

    private void Broadcast(byte op, byte[] payload)
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
                    member.CallAsync(op, payload, _timeout).AsTask().GetAwaiter().GetResult();
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
                (byte status, byte[] blob) = member.CallAsync(InstanceWire.GetBlob, new[] { type }, _timeout).AsTask().GetAwaiter().GetResult();
                return status == InstanceWire.StatusOk ? blob : [];
            }
            catch (InstanceFailedException exception)
            {
                Fail(member, exception.Message);
            }
        }

        return [];
    }

    internal override async ValueTask<bool> SetStateBlobAsync(byte type, byte[] blob)
    {
        byte[] payload = new byte[1 + blob.Length];
        payload[0] = type;
        blob.CopyTo(payload, 1);
        await _order.WaitAsync().ConfigureAwait(false);
        try
        {
            bool ok = true;
            foreach (PairMember member in _members.Where(m => m.Live))
            {
                try
                {
                    (byte status, _) = await member.CallAsync(InstanceWire.SetBlob, payload, _timeout).ConfigureAwait(false);
                    ok &= status == InstanceWire.StatusOk;
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
