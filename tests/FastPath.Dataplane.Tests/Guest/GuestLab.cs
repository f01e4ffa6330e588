using System.Net;
using FastPath.Dataplane.Guest;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Rewrite;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Guest;

/// <summary>
/// A running worker with a secure port, a user port and a guest port on a real Unix socket and a real frame pool:
/// secure→user packets for the guest's (tenant, address) go to the guest (the stage routes them there); what it
/// sends leaves on the secure port. The worker's pool is never the guest's: the guest gets its own frames.
/// </summary>
internal sealed class GuestLab : IDisposable
{
    public const uint Frames = 512;
    public static readonly byte[] SecureMac = [2, 0, 0, 0, 2, 1];
    public static readonly byte[] SecurePeer = [2, 0, 0, 0, 2, 2];

    private readonly TempDirectory _dir = new();
    private readonly Worker _worker;

    public GuestLab(ushort tenant, IPAddress user, IPAddress secure, int maxHeldFrames = GuestLayout.DefaultMaxHeldFrames)
    {
        Table = new MappingTable(64);
        Assert.Equal(MappingAddResult.Added, Table.Add(MappingEntry.Create(tenant, user, secure)));
        Pool = new FramePool(Frames);
        InitialFree = Pool.FreeCount;
        Counters = new Counters(1);
        Secure = new QueuePort("s0");
        User = new QueuePort("u0");
        SocketPath = _dir.File("guest.sock");
        Port = new GuestPort("g0", SocketPath, tenant, user, maxHeldFrames);
        var toUser = new TranslationStage(Table, TranslationDirection.SecureToUser, EgressMacs.Create([2, 0, 0, 0, 1, 1], [2, 0, 0, 0, 1, 2]), [MappingKey.User(tenant, user)]);
        var toSecure = new TranslationStage(Table, TranslationDirection.UserToSecure, EgressMacs.Create(SecureMac, SecurePeer));
        _worker = new Worker(0, -1, [new PortBinding(Secure, toUser, User, [Port]), new PortBinding(Port, toSecure, Secure)], Pool, Counters);
        _worker.Start();
    }

    public MappingTable Table { get; }

    public FramePool Pool { get; }

    public uint InitialFree { get; }

    public Counters Counters { get; }

    public QueuePort Secure { get; }

    public QueuePort User { get; }

    public GuestPort Port { get; }

    public string SocketPath { get; }

    public string Directory => _dir.Path;

    public bool WorkerRunning => !_worker.Finished;

    public long Dropped(DropReason reason) => FastPath.Dataplane.Pipeline.Counters.Dropped(Counters.Read(0), reason);

    /// <summary>Waits (bounded) for a condition the worker thread brings about.</summary>
    public static void WaitFor(Func<bool> condition, string what)
    {
        DateTime deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            Thread.Sleep(5);
        }
    }

    /// <summary>A secure-side UDP frame from <paramref name="source"/>:<paramref name="sourcePort"/> to <paramref name="destination"/>:<paramref name="port"/> (payload 0, 1, 2, …).</summary>
    public static byte[] SecureFrame(IPAddress source, ushort sourcePort, IPAddress destination, ushort port, int payload)
    {
        bool ipv6 = destination.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        byte[] frame = new byte[UdpFrameBuilder.FrameLength(ipv6, false, payload)];
        UdpFrameBuilder.Write(frame, SecurePeer, SecureMac, 0, source.GetAddressBytes(), destination.GetAddressBytes(), sourcePort, port, payload);
        return frame;
    }

    public void Dispose()
    {
        _worker.Dispose();
        _worker.Join();
        Port.Dispose();
        Assert.Equal(Frames, Pool.FreeCount); // every worker frame is back; a guest never held one
        Pool.Dispose();
        Counters.Dispose();
        Table.Dispose();
        _dir.Dispose();
    }
}
