using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Tests.Ports;

namespace FastPath.Dataplane.Tests.Pipeline;

/// <summary>
/// Frames the kernel drops at a full RX ring are a named drop reason: config (a pipeline with an AF_PACKET user port
/// of one 15-frame ring block, its worker not started) → send (scapy, 300 frames) → verify the worker's
/// <see cref="DropReason.RxRingFull"/> count is the kernel's PACKET_STATISTICS drop count, which stats, metrics and
/// the CLI print by the reason's name.
/// </summary>
public sealed class KernelRingDropTests
{
    private static readonly byte[] s_mac = [0x02, 0x00, 0x5c, 0xa9, 0x00, 0x02];
    private static readonly byte[] s_peer = [0x02, 0x00, 0x5c, 0xa9, 0x00, 0x01];

    [Fact]
    public void Frames_the_kernel_dropped_at_a_full_ring_are_the_polling_workers_rx_ring_full_drops()
    {
        using VethLab lab = VethLab.Create();
        lab.Lab.Exec(lab.Namespace, "sysctl", "-qw", $"net.ipv6.conf.{lab.PeerLink}.disable_ipv6=1");
        using MappingTable table = new();
        using RunningPipeline pipeline = new PipelineBuilder(table)
            .WithCores([-1])
            .AddPair(
                new PortPlan("u0", (_, _) => new AfPacketPort("u0", lab.RootLink, new AfPacketOptions { RingFrames = 8 }), PerWorker: false, s_mac, s_peer),
                new PortPlan("s0", (_, _) => new SinkPort("s0"), PerWorker: false, s_mac, s_peer))
            .Build();

        // Nobody polls: the ring takes its 15 frames and the kernel drops the rest.
        lab.Flood(300);

        PortTotals user = Assert.Single(pipeline.PortTotals(), p => p.Name == "u0");
        WorkerCounters worker = pipeline.ReadWorker(0);
        Assert.InRange(user.KernelDrops, 300 - 15, 300);
        Assert.Equal(user.KernelDrops, Counters.Dropped(worker, DropReason.RxRingFull));
        Assert.Equal(0, Counters.Dropped(pipeline.Counters.Read(0), DropReason.RxRingFull)); // the worker itself never counts it
        Assert.Equal("rx-ring-full", DropReasons.Name(DropReason.RxRingFull));
        Assert.True(DropReasons.TryParse("rx-ring-full", out DropReason parsed) && parsed == DropReason.RxRingFull);
    }
}
