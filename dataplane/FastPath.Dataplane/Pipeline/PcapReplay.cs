using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Dataplane.Pipeline;

/// <summary>
/// Replays a capture through a real worker thread: pcap port RX → translation → pcap port TX. The same path as a
/// live port, with files at both ends, so a capture from the field can be re-run against a maps file.
/// </summary>
/// <remarks>Not thread-safe: one replay per call; the table may be updated concurrently (its own contract).</remarks>
public static class PcapReplay
{
    /// <summary>Replays <paramref name="input"/> arriving from <paramref name="direction"/>'s side into <paramref name="output"/>; returns the worker's counters.</summary>
    /// <param name="table">Mappings to translate with.</param>
    /// <param name="direction">Side the captured packets arrived on.</param>
    /// <param name="input">Capture to read.</param>
    /// <param name="output">Capture to write, in the input's format.</param>
    /// <param name="egress">MACs to write on translated frames; null keeps them.</param>
    public static WorkerCounters Run(MappingTable table, TranslationDirection direction, string input, string output, EgressMacs? egress = null)
    {
        using var rx = new PcapPort("replay-in", input, null);
        using var tx = new PcapPort("replay-out", null, output);
        using var counters = new Counters(1);
        using var pool = new FramePool(Worker.DefaultBatchSize * 2);
        var stage = new TranslationStage(table, direction, egress);
        using (var worker = new Worker(0, -1, [new PortBinding(rx, stage, tx)], pool, counters))
        {
            worker.Start();
            while (!rx.Exhausted && !worker.Finished)
            {
                Thread.Sleep(1);
            }

            // Exhausted is set inside the worker's last receive; one more poll cycle finishes that batch.
            long received;
            do
            {
                received = counters.Read(0).RxPackets;
                Thread.Sleep(5);
            }
            while (received != counters.Read(0).RxPackets || Processed(counters.Read(0)) != received);

            worker.Stop();
            worker.Join();
        }

        tx.Flush();
        return counters.Read(0);
    }

    private static long Processed(in WorkerCounters c)
    {
        long dropped = 0;
        foreach (DropReason reason in DropReasons.All)
        {
            dropped += Counters.Dropped(c, reason);
        }

        return c.TxPackets + dropped;
    }
}
