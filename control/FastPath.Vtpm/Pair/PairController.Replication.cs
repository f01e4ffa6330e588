using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Text;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Protocol;
using FastPath.Vtpm.State;

namespace FastPath.Vtpm.Pair;

/// <summary>Replication: READ on the flagged master; WRITE and RANDOM on both in one global order (entropy replay for the managed engine, DRBG lockstep for libtpms, master + state hand-over for commands neither can reproduce); a lone survivor answers once durable.</summary>
public sealed partial class PairController
{
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
                if (written >= TpmConstants.HeaderSize && CommandClassification.MayHaveChangedState(BinaryPrimitives.ReadUInt32BigEndian(response[6..])))
                {
                    // A wrong password on a lockout-protected entity: the master counted it (or recorded that it is
                    // no longer orderly), the slave must too.
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

            if (masterApplied && slaveApplied && Refused(fromMaster) != Refused(fromSlave))
            {
                // One instance's disk refused the change (it undid it), the other applied it: the pair acknowledges
                // nothing one of them refused. Not a divergence: the one that applied it is brought back to the
                // refuser's state (a resync that writes nothing when its disk already holds that state), or dropped
                // and rejoined once its disk takes the state.
                PairMember refuser = Refused(fromMaster) ? master : slave;
                PairMember applier = Other(refuser);
                Console.Error.WriteLine($"fastpath: vtpm pair: instance {refuser.Name} could not write the change to its disk (TPM_RC_NV_UNAVAILABLE); undoing it on {applier.Name}");
                ResyncLocked(refuser, applier);
                return NvUnavailable(response);
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
            return DurableAlone(survivor) && SaveMembership() ? Acknowledge(survivor, length) : NvUnavailable(response);
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

    /// <summary>Whether an instance answered TPM_RC_NV_UNAVAILABLE: its disk refused the change, which it undid.</summary>
    private static bool Refused(in ExecuteAnswer answer) =>
        answer.Response.Length >= TpmConstants.HeaderSize && BinaryPrimitives.ReadUInt32BigEndian(answer.Response[6..]) == TpmRc.NvUnavailable;

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
        if (!SaveMembership())
        {
            // The durable membership still names the dropped instance and cannot be rewritten (a full disk): a
            // change held by this one alone must not be acknowledged.
            return NvUnavailable(response);
        }

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
            // Our instances hand over on their own wire: the master's digest and volatile blob in one answer, taken
            // by the slave when its permanent state is the same (Sign, Quote, Create leave it as both had it): two
            // round trips on pooled connections. Otherwise (NV changed, or swtpm instances) the full state moves
            // over the control channel as QEMU migrates a vTPM.
            bool handedOver = master.Instance.DrbgLockstep && slave.Instance.DrbgLockstep
                && master.TakeVolatile() is { } state
                && slave.AdoptVolatile(state, _durability == PairDurability.Sync);
            if (!handedOver)
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
            return DurableAlone(master) && SaveMembership() ? Acknowledge(master, written) : NvUnavailable(response);
        }
    }
}
