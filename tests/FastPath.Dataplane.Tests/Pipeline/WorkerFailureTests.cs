using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Pipeline;

/// <summary>
/// A worker that dies is reported the moment it dies, with its cause, by <see cref="RunningPipeline.WorkerFailure"/>
/// (what stops the daemon with exit 1): a pcap output on a 1 MiB tmpfs fills it and the write fails with ENOSPC. A
/// pipeline stopped on purpose never reports a failure.
/// </summary>
public sealed class WorkerFailureTests : IDisposable
{
    private static readonly byte[] s_mac = [0x02, 0, 0, 0, 0, 1];
    private static readonly byte[] s_peer = [0x02, 0, 0, 0, 0, 2];
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        ProcessRunner.Run("umount", _dir.File("small"));
        _dir.Dispose();
    }

    [Fact]
    public async Task A_worker_whose_port_fails_is_reported_at_once_with_its_cause()
    {
        string small = _dir.File("small");
        Directory.CreateDirectory(small);
        ProcessRunner.Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small).EnsureSuccess();
        using MappingTable table = InMemoryBenchmark.BuildTable(64);
        var spec = new GeneratorSpec(64, 64, 64);
        using RunningPipeline pipeline = new PipelineBuilder(table)
            .WithCores([-1])
            .AddPair(
                new PortPlan("gen", (w, n) => new GeneratorPort("gen", spec, w, n, 10_000_000), PerWorker: true, s_mac, s_peer),
                new PortPlan("out", (_, _) => new PcapPort("out", null, Path.Combine(small, "out.pcap")), PerWorker: false, s_mac, s_peer))
            .Build();
        pipeline.Start();

        string failure = await pipeline.WorkerFailure.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.Contains("worker 0 failed", failure, StringComparison.Ordinal);
        Assert.Contains("No space left on device", failure, StringComparison.Ordinal);
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
}
