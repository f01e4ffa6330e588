using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Text;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Protocol;
using FastPath.Vtpm.State;

namespace FastPath.Vtpm.Pair;

/// <summary>The master flag: per command, the live instance with the smaller (outstanding + 1) × EWMA(service time), ties alternating; a member that missed 64 flags or has had no sample for 100 ms gets the next one.</summary>
public sealed partial class PairController
{
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
}
