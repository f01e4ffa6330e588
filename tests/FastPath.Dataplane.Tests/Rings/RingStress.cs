namespace FastPath.Dataplane.Tests.Rings;

/// <summary>Bounds and operation mix shared by the ring stress tests.</summary>
internal static class RingStress
{
    /// <summary>Each stress test stops producing after this long (or <see cref="ItemsPerProducer"/>), then drains.</summary>
    internal static readonly TimeSpan Budget = TimeSpan.FromSeconds(2);

    internal const ulong ItemsPerProducer = 2_000_000;

    /// <summary>Items every producer passes even on a loaded machine: hundreds of laps of a 64-slot ring and past the 2^32 wrap.</summary>
    internal const ulong MinimumItemsPerProducer = 20_000;

    /// <summary>Whether a producer that has sent <paramref name="sent"/> items of its <paramref name="quota"/> goes on.</summary>
    internal static bool KeepProducing(ulong sent, ulong quota, CancellationToken deadline) =>
        sent < quota && (sent < MinimumItemsPerProducer || !deadline.IsCancellationRequested);

    internal const int MaxBatch = 40;

    internal enum Op
    {
        Single,
        Bulk,
        Burst,
    }

    internal static Op Operation(int draw) => (Op)draw;

    internal static CancellationToken Deadline() => new CancellationTokenSource(Budget).Token;

    /// <summary>
    /// Runs each body on its own thread (real threads: the stress needs them concurrently, not queued on a
    /// busy pool), waits for all, and rethrows the first failure; a hang fails after a minute.
    /// </summary>
    internal static void RunConcurrently(params Action[] bodies)
    {
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        Thread[] threads = bodies.Select(body => new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception error)
            {
                errors.Enqueue(error);
            }
        })
        { IsBackground = true }).ToArray();
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        foreach (Thread thread in threads)
        {
            Assert.True(thread.Join(TimeSpan.FromMinutes(1)), "a stress thread did not finish within a minute");
        }

        if (errors.TryDequeue(out Exception? first))
        {
            throw new AggregateException(first);
        }
    }
}
