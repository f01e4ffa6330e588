using FastPath.Harness;
using System.Net;
using FastPath.Dataplane.Guest;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Rewrite;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Guest;

/// <summary>The worker loop stays allocation-free with guest traffic: routing to the guest, copying into its memory, header building.</summary>
public sealed class GuestAllocationTests
{
    [Fact]
    public void A_worker_echoing_through_a_guest_allocates_nothing_in_its_loop()
    {
        const long RoundTrips = 200_000;
        using var dir = new TempDirectory();
        using var table = new MappingTable(16);
        table.Add(MappingEntry.Create(100, IPAddress.Parse("10.1.0.5"), IPAddress.Parse("198.18.0.5")));
        using var pool = new FramePool(1024);
        using var counters = new Counters(1);
        byte[] frame = new byte[UdpFrameBuilder.FrameLength(false, false, 100)];
        UdpFrameBuilder.Write(frame, [2, 0, 0, 0, 2, 2], [2, 0, 0, 0, 2, 1], 0, [198, 18, 1, 9], [198, 18, 0, 5], 5000, 7, 100);
        using var secure = new WindowPort(frame);
        using var guest = new GuestPort("g0", dir.File("guest.sock"), 100, IPAddress.Parse("10.1.0.5"));
        var macs = EgressMacs.Create([2, 0, 0, 0, 1, 1], [2, 0, 0, 0, 1, 2]);
        var worker = new Worker(0, -1,
            [new PortBinding(secure, new TranslationStage(table, TranslationDirection.SecureToUser, macs, [MappingKey.User(100, IPAddress.Parse("10.1.0.5"))]), new SinkPort("u0"), [guest]),
             new PortBinding(guest, new TranslationStage(table, TranslationDirection.UserToSecure, macs), secure)],
            pool, counters);
        using GuestClient client = GuestClient.Connect(dir.File("guest.sock"));
        using var stop = new CancellationTokenSource();
        var echo = new Thread(() => GuestEcho.Run(client, stop.Token)) { IsBackground = true };
        echo.Start();
        worker.Start();
        GuestLab.WaitFor(() => guest.Connected, "the worker to adopt the guest");
        secure.Grant(RoundTrips);
        GuestLab.WaitFor(() => secure.Echoed == RoundTrips, "every round trip");
        worker.Dispose();
        worker.Join();
        stop.Cancel();
        echo.Join();

        Assert.Equal(0, worker.AllocatedBytesInLoop);
        WorkerCounters totals = counters.Read(0);
        Assert.Equal(2 * RoundTrips, totals.RxPackets);
        Assert.True(totals.Batches > 64, $"only {totals.Batches} batches: the allocation baseline was never taken");
    }
}
