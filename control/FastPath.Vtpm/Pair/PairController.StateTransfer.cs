using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Text;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Protocol;
using FastPath.Vtpm.State;

namespace FastPath.Vtpm.Pair;

/// <summary>State transfer: divergence repair and rejoin copy the full state from one instance into the other (<see cref="PairStateTransfer"/>), then the digests must agree.</summary>
public sealed partial class PairController
{
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
}
