using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;

namespace FastPath.Dataplane.Tests.Pipeline;

/// <summary>The builder wires pairs onto workers: fanned-out pairs on every worker, single-owner pairs on one.</summary>
public sealed class PipelineBuilderTests
{
    private static readonly byte[] s_mac = [0x02, 0, 0, 0, 0, 1];
    private static readonly byte[] s_peer = [0x02, 0, 0, 0, 0, 2];

    [Fact]
    public void A_fanned_out_pair_runs_on_every_worker_and_translates_everything()
    {
        const long Packets = 20_000;
        using MappingTable table = InMemoryBenchmark.BuildTable(64);
        var spec = new GeneratorSpec(64, 64, 64);
        using RunningPipeline pipeline = new PipelineBuilder(table)
            .WithCores([-1, -1])
            .AddPair(
                new PortPlan("gen", (w, n) => new GeneratorPort("gen", spec, w, n, Packets / n), PerWorker: true, s_mac, s_peer),
                new PortPlan("out", (_, _) => new SinkPort("out"), PerWorker: true, s_mac, s_peer))
            .Build();
        pipeline.Start();
        WaitFor(() => pipeline.Counters.Total().RxPackets == Packets);
        Assert.Null(pipeline.Stop(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(5)));

        WorkerCounters total = pipeline.Counters.Total();
        Assert.Equal(Packets, total.TxPackets);
        Assert.Equal(Packets / 2, pipeline.Counters.Read(0).RxPackets);
        Assert.Equal(Packets / 2, pipeline.Counters.Read(1).RxPackets);
        PortTotals sink = Assert.Single(pipeline.PortTotals(), p => p.Name == "out");
        Assert.Equal(PortSide.Secure, sink.Side);
        Assert.Equal(2, sink.Instances);
        Assert.Equal(Packets, sink.TxPackets);
        Assert.Equal(total.TxBytes, sink.TxBytes);
    }

    [Fact]
    public void Pairs_with_a_single_owner_port_are_spread_round_robin()
    {
        using MappingTable table = new();
        var opened = new List<(string Name, int Worker)>();
        PortPlan Sink(string name, bool perWorker) => new(name, (w, _) =>
        {
            opened.Add((name, w));
            return new SinkPort(name);
        }, perWorker, s_mac, s_peer);

        using RunningPipeline pipeline = new PipelineBuilder(table)
            .WithCores([-1, -1])
            .AddPair(Sink("a", false), Sink("b", true))
            .AddPair(Sink("c", true), Sink("d", false))
            .Build();
        Assert.Equal([("a", 0), ("b", 0), ("c", 1), ("d", 1)], opened);
        Assert.All(pipeline.PortTotals(), p => Assert.Equal(1, p.Instances));
        Assert.Equal(["a", "b", "c", "d"], pipeline.Ports);
    }

    [Fact]
    public void A_pipeline_without_pairs_has_no_worker_thread_and_stops_cleanly()
    {
        // What a daemon without ports runs (control socket, maps, vTPM only): counters for its workers, no thread.
        using MappingTable table = new();
        using RunningPipeline pipeline = new PipelineBuilder(table).WithCores([-1, -1]).Build();
        pipeline.Start();
        Assert.Equal(2, pipeline.WorkerCount);
        Assert.Empty(pipeline.WorkerIds);
        Assert.Empty(pipeline.Ports);
        Assert.Empty(pipeline.PortTotals());
        Assert.True(pipeline.Finished);
        Assert.Null(pipeline.Stop(TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(1)));
        Assert.Equal(0, pipeline.Counters.Total().RxPackets);
        Assert.Throws<ArgumentException>(() => new PipelineBuilder(table).WithCores([]));
    }

    private static void WaitFor(Func<bool> condition)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), "the workers did not receive every packet");
            Thread.Sleep(10);
        }
    }
}
