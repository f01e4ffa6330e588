using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;

namespace FastPath.Dataplane.Tests.Pipeline;

/// <summary>
/// A worker that dies is reported the moment it dies, with its cause, by <see cref="RunningPipeline.WorkerFailure"/>
/// (what stops the daemon with exit 1, independently of the statistics timer). No real port throws today (a failed
/// pcap output is counted, a vanished interface is polled on), so the fault is injected: a port whose device fails
/// on its 1000th transmit. A pipeline stopped on purpose never reports a failure.
/// </summary>
public sealed class WorkerFailureTests
{
    private static readonly byte[] s_mac = [0x02, 0, 0, 0, 0, 1];
    private static readonly byte[] s_peer = [0x02, 0, 0, 0, 0, 2];

    [Fact]
    public async Task A_worker_whose_port_fails_is_reported_at_once_with_its_cause()
    {
        using MappingTable table = InMemoryBenchmark.BuildTable(64);
        var spec = new GeneratorSpec(64, 64, 64);
        using RunningPipeline pipeline = new PipelineBuilder(table)
            .WithCores([-1])
            .AddPair(
                new PortPlan("gen", (w, n) => new GeneratorPort("gen", spec, w, n, 10_000_000), PerWorker: true, s_mac, s_peer),
                new PortPlan("out", (_, _) => new FailingPort("out", 1000), PerWorker: false, s_mac, s_peer))
            .Build();
        pipeline.Start();

        string failure = await pipeline.WorkerFailure.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.Equal("worker 0 failed: the device went away (injected)", failure);
        Assert.NotNull(pipeline.Stop(TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task A_pipeline_stopped_on_purpose_reports_no_failure()
    {
        using MappingTable table = InMemoryBenchmark.BuildTable(64);
        var spec = new GeneratorSpec(64, 64, 64);
        using RunningPipeline pipeline = new PipelineBuilder(table)
            .WithCores([-1])
            .AddPair(
                new PortPlan("gen", (w, n) => new GeneratorPort("gen", spec, w, n, 1_000), PerWorker: true, s_mac, s_peer),
                new PortPlan("out", (_, _) => new SinkPort("out"), PerWorker: true, s_mac, s_peer))
            .Build();
        pipeline.Start();
        Assert.Null(pipeline.Stop(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(5)));
        await Task.Delay(500, TestContext.Current.CancellationToken);
        Assert.False(pipeline.WorkerFailure.IsCompleted);
    }

    /// <summary>Takes frames like a sink until its <paramref name="limit"/>-th transmit, which throws.</summary>
    private sealed class FailingPort(string name, int limit) : PacketPort(name)
    {
        private int _calls;

        public override int Receive(ReadOnlySpan<RxBuffer> buffers, Span<FrameView> frames) => 0;

        public override int Transmit(ReadOnlySpan<FrameView> frames, ReadOnlySpan<PacketMeta> meta) =>
            ++_calls < limit ? frames.Length : throw new IOException("the device went away (injected)");
    }
}
