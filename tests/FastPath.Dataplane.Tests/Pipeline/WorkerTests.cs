using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Dataplane.Tests.Pipeline;

public sealed class WorkerTests
{
    private static readonly EgressMacs s_egress = EgressMacs.Create([2, 0, 0, 0, 9, 1], [2, 0, 0, 0, 9, 2]);

    [Fact]
    public void A_worker_translates_ten_million_packets_without_allocating()
    {
        const long packets = 10_000_000;
        using MappingTable table = InMemoryBenchmark.BuildTable(4096);
        (WorkerCounters counters, SinkPort sink, long allocated) = RunWorker(table, new GeneratorSpec(64, 4096, 4096), packets);

        Assert.Equal(0, allocated);
        Assert.Equal(packets, counters.RxPackets);
        Assert.Equal(packets, counters.TxPackets);
        Assert.Equal(packets, sink.Packets);
        Assert.Equal(packets * 56, sink.Bytes); // 60-byte frames lose their 4-byte VLAN tag
    }

    [Fact]
    public void Unmapped_sources_are_dropped_and_counted_by_reason()
    {
        // Flows cycle over 2000 source addresses but only the first 1000 are mapped: exactly half miss.
        using MappingTable table = InMemoryBenchmark.BuildTable(1000);
        (WorkerCounters counters, SinkPort sink, _) = RunWorker(table, new GeneratorSpec(64, 2000, 2000), 20_000);

        Assert.Equal(20_000, counters.RxPackets);
        Assert.Equal(10_000, Counters.Dropped(counters, DropReason.NoMapping));
        Assert.Equal(10_000, counters.TxPackets);
        Assert.Equal(10_000, sink.Packets);
        Assert.True(counters.Batches > 0 && counters.BusyTicks > 0);
    }

    [Fact]
    public void Rss_gives_every_flow_to_exactly_one_of_several_workers()
    {
        var spec = new GeneratorSpec(64, 10_000, 10_000);
        int total = 0;
        for (int worker = 0; worker < 3; worker++)
        {
            using var generator = new GeneratorPort("g", spec, worker, 3, 1);
            Assert.InRange(generator.FlowCount, 2_800, 3_900);
            total += generator.FlowCount;
        }

        Assert.Equal(10_000, total);
    }

    [Fact]
    public void Two_workers_share_the_traffic_and_lose_nothing()
    {
        BenchResult result = InMemoryBenchmark.Run(new BenchOptions(Packets: 2_000_001, Mappings: 10_000, Flows: 10_000, Workers: 2));
        Assert.Equal(2_000_001, result.Packets);
        Assert.Equal(2_000_001, result.Transmitted);
        Assert.Equal(0, result.Drops);
        Assert.Equal(0, result.AllocatedBytesInLoop);
    }

    [Theory]
    [InlineData(100)] // copied at its length
    [InlineData(64)] // the fixed 64-byte template copy (issue 18)
    public unsafe void Generated_frames_carry_checksums_that_tshark_validates(int frameSize)
    {
        using var dir = new FastPath.Testing.TempDirectory();
        string path = dir.File("gen.pcap");
        using (var generator = new GeneratorPort("g", new GeneratorSpec(frameSize, 70_000, 3), 0, 1, 5))
        using (var writer = CaptureWriter.Create(path, new CaptureFormat(CaptureFileKind.Pcap, Nanoseconds: false)))
        {
            byte* buffer = stackalloc byte[5 * 256];
            var buffers = new RxBuffer[5];
            for (int i = 0; i < 5; i++)
            {
                buffers[i] = new RxBuffer(buffer + (i * 256), 256);
            }

            var frames = new FrameView[5];
            Assert.Equal(5, generator.Receive(buffers, frames));
            Assert.Equal(0, generator.Receive(buffers, frames));
            for (int i = 0; i < 5; i++)
            {
                writer.Write(new ReadOnlySpan<byte>(frames[i].Data, frames[i].Length), i * 1000L);
            }
        }

        IReadOnlyList<string[]> rows = FastPath.Testing.Tshark.Fields(path, ["frame.len", "vlan.id", "ip.src", "udp.srcport", "ip.checksum.status", "udp.checksum.status"],
            ["ip.check_checksum:TRUE", "udp.check_checksum:TRUE"]);
        Assert.Equal(5, rows.Count);
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal([$"{frameSize - 4}", "100", $"10.0.0.{i % 3}", $"{1024 + (i / 3)}", "1", "1"], rows[i]);
        }
    }

    private static (WorkerCounters Counters, SinkPort Sink, long Allocated) RunWorker(MappingTable table, GeneratorSpec spec, long packets)
    {
        using var counters = new Counters(1);
        using var pool = new FramePool(256);
        using var generator = new GeneratorPort("gen", spec, 0, 1, packets);
        var sink = new SinkPort("sink");
        var stage = new TranslationStage(table, TranslationDirection.UserToSecure, s_egress);
        long allocated;
        using (var worker = new Worker(0, -1, [new PortBinding(generator, stage, sink)], pool, counters, packetLimit: packets))
        {
            worker.Start();
            worker.Join();
            allocated = worker.AllocatedBytesInLoop;
        }

        return (counters.Read(0), sink, allocated);
    }
}
