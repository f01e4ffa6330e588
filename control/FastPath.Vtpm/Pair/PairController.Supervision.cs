using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Text;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Protocol;
using FastPath.Vtpm.State;

namespace FastPath.Vtpm.Pair;

/// <summary>Supervision: an instance that fails is dropped (SIGKILL), restarted and rejoined under the global order; membership (who holds every acknowledged change) is saved durably before a command applied by fewer instances is acknowledged.</summary>
public sealed partial class PairController
{
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
        int backoff = 200;
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
                // Backing off (200 ms doubling to 5 s): an instance whose disk refuses the state (full) would
                // otherwise be restarted five times a second until space frees.
                Console.Error.WriteLine($"fastpath: vtpm pair: rejoining {member.Name} failed: {exception.Message}; retrying in {backoff} ms");
                member.Kill();
                running = false;
                try
                {
                    await Task.Delay(backoff, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = Math.Min(backoff * 2, 5000);
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

    /// <summary>Writes which instances hold every acknowledged change, if that changed (fsync'd before return).
    /// Returns whether the durable record names live instances only, i.e. whether a change the live ones hold may
    /// be acknowledged. A failed write (a full disk) is not fatal: the old record stays, which is still true while
    /// every instance it names is live (a new member of the pair just is not named yet).</summary>
    private bool SaveMembership()
    {
        lock (_membershipLock)
        {
            string holders = string.Concat(_members.Where(m => m.Live).Select(m => m.Name));
            if (holders.Length == 0 || holders == _savedMembership)
            {
                return true;
            }

            try
            {
                _membership.Save(Encoding.ASCII.GetBytes(holders));
                _savedMembership = holders;
                _membershipFailing = false;
                return true;
            }
            catch (IOException exception)
            {
                if (!_membershipFailing)
                {
                    Console.Error.WriteLine($"fastpath: vtpm pair: membership write failed ({exception.Message}); the record still names {(_savedMembership.Length == 0 ? "nobody" : _savedMembership)}, retried at the next change");
                    _membershipFailing = true;
                }

                return _savedMembership.Length > 0 && _savedMembership.All(name => holders.Contains(name, StringComparison.Ordinal));
            }
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
}
