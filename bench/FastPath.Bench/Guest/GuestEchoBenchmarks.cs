using System.Net;
using BenchmarkDotNet.Attributes;
using FastPath.Dataplane.Guest;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Rewrite;

using FastPath.Harness;

namespace FastPath.Bench.Guest;

/// <summary>
/// Guest echo round trips in memory, worker on core 0 and guest on core 1. <see cref="GuestChannel"/>: the whole path —
/// a secure-side UDP frame is parsed, translated and moved to the guest (header to the header slab, payload left in
/// place), the echo guest posts it back from the same frame, the worker builds a fresh header with checksums and
/// translates it to the secure side. Anchor <see cref="SocketPair"/>: the same payloads bounced through a
/// <c>socketpair(AF_UNIX, SOCK_SEQPACKET)</c> with <c>sendmmsg</c>/<c>recvmmsg</c> in bursts of 32, both sides
/// busy-polling with MSG_DONTWAIT, and no header work at all. Both keep at most <see cref="WindowPort.Window"/> in flight.
/// </summary>
[MinColumn]
[MedianColumn]
public unsafe class GuestEchoBenchmarks
{
    private const int PacketsPerInvoke = 1 << 16;
    private const int Burst = 32;

    private readonly string _socket = Path.Combine(Path.GetTempPath(), $"fastpath-bench-guest-{Environment.ProcessId}.sock");
    private MappingTable _table = null!;
    private FramePool _pool = null!;
    private Counters _counters = null!;
    private WindowPort _secure = null!;
    private GuestPort _guest = null!;
    private Worker _worker = null!;
    private GuestClient _client = null!;
    private CancellationTokenSource _stop = null!;
    private Thread _peer = null!;
    private int[] _pair = null!;
    private byte[] _payload = null!;
    private volatile bool _peerStop;

    [Params(64, 1024)]
    public int Payload { get; set; }

    [GlobalSetup(Target = nameof(GuestChannel))]
    public void SetupGuest()
    {
        _table = new MappingTable(16);
        _table.Add(MappingEntry.Create(0, IPAddress.Parse("10.1.0.5"), IPAddress.Parse("198.18.0.5")));
        _pool = new FramePool(2048);
        _counters = new Counters(1);
        byte[] frame = new byte[UdpFrameBuilder.FrameLength(false, false, Payload)];
        UdpFrameBuilder.Write(frame, [2, 0, 0, 0, 2, 2], [2, 0, 0, 0, 2, 1], 0, IPAddress.Parse("198.18.1.9").GetAddressBytes(),
            IPAddress.Parse("198.18.0.5").GetAddressBytes(), 5000, 7, Payload);
        _secure = new WindowPort(frame);
        _guest = new GuestPort("g0", _socket, 0, IPAddress.Parse("10.1.0.5"));
        var macs = EgressMacs.Create([2, 0, 0, 0, 1, 1], [2, 0, 0, 0, 1, 2]);
        var toUser = new TranslationStage(_table, TranslationDirection.SecureToUser, macs, [MappingKey.User(0, IPAddress.Parse("10.1.0.5"))]);
        var toSecure = new TranslationStage(_table, TranslationDirection.UserToSecure, macs);
        _worker = new Worker(0, 0, [new PortBinding(_secure, toUser, new SinkPort("u0"), [_guest]), new PortBinding(_guest, toSecure, _secure)], _pool, _counters);
        _worker.Start();
        _client = GuestClient.Connect(_socket);
        _stop = new CancellationTokenSource();
        _peer = new Thread(() =>
        {
            CorePinning.PinCurrentThread(1);
            GuestEcho.Run(_client, _stop.Token);
        }) { IsBackground = true };
        _peer.Start();
        SpinWait.SpinUntil(() => _guest.Connected, TimeSpan.FromSeconds(10));
    }

    [GlobalCleanup(Target = nameof(GuestChannel))]
    public void CleanupGuest()
    {
        _stop.Cancel();
        _peer.Join();
        _worker.Dispose();
        _client.Dispose();
        _guest.Dispose();
        _secure.Dispose();
        _pool.Dispose();
        _counters.Dispose();
        _table.Dispose();
    }

    /// <summary>Round trips through worker and guest; OperationsPerInvoke makes the result time per round trip.</summary>
    [Benchmark(OperationsPerInvoke = PacketsPerInvoke)]
    public long GuestChannel()
    {
        long target = _secure.Echoed + PacketsPerInvoke;
        _secure.Grant(PacketsPerInvoke);
        while (_secure.Echoed < target)
        {
            Thread.SpinWait(32);
        }

        return target;
    }

    [GlobalSetup(Target = nameof(SocketPair))]
    public void SetupSocketPair()
    {
        _pair = new int[2];
        fixed (int* fds = _pair)
        {
            Errno.Check(Libc.Socketpair(LinuxConstants.AfUnix, LinuxConstants.SockSeqPacket | LinuxConstants.SockCloexec, 0, fds), "socketpair");
        }

        _payload = new byte[Payload];
        _peerStop = false;
        _peer = new Thread(EchoPeer) { IsBackground = true };
        _peer.Start();
        CorePinning.PinCurrentThread(0);
    }

    [GlobalCleanup(Target = nameof(SocketPair))]
    public void CleanupSocketPair()
    {
        _peerStop = true;
        _peer.Join();
        Libc.Close(_pair[0]);
        Libc.Close(_pair[1]);
    }

    /// <summary>The same payloads, window and bursts through the kernel's socket pair.</summary>
    [Benchmark(OperationsPerInvoke = PacketsPerInvoke)]
    public long SocketPair()
    {
        int fd = _pair[0];
        byte* buffers = stackalloc byte[Burst * Payload];
        Libc.IoVec* vectors = stackalloc Libc.IoVec[Burst];
        Libc.MMsgHdr* messages = stackalloc Libc.MMsgHdr[Burst];
        Prepare(buffers, vectors, messages);
        long sent = 0;
        long received = 0;
        while (received < PacketsPerInvoke)
        {
            int room = (int)Math.Min(Math.Min(Burst, WindowPort.Window - (sent - received)), PacketsPerInvoke - sent);
            if (room > 0)
            {
                int n = Libc.Sendmmsg(fd, messages, (uint)room, LinuxConstants.MsgDontWait);
                sent += Math.Max(n, 0);
            }

            Prepare(buffers, vectors, messages);
            int got = Libc.Recvmmsg(fd, messages, Burst, LinuxConstants.MsgDontWait, null);
            received += Math.Max(got, 0);
            Prepare(buffers, vectors, messages);
        }

        return received;
    }

    private void Prepare(byte* buffers, Libc.IoVec* vectors, Libc.MMsgHdr* messages)
    {
        for (int i = 0; i < Burst; i++)
        {
            vectors[i] = new Libc.IoVec { Base = buffers + (i * Payload), Length = (nuint)Payload };
            messages[i] = default;
            messages[i].Header.Iov = &vectors[i];
            messages[i].Header.IovLength = 1;
        }
    }

    private void EchoPeer()
    {
        CorePinning.PinCurrentThread(1);
        int fd = _pair[1];
        byte* buffers = stackalloc byte[Burst * Payload];
        Libc.IoVec* vectors = stackalloc Libc.IoVec[Burst];
        Libc.MMsgHdr* messages = stackalloc Libc.MMsgHdr[Burst];
        while (!_peerStop)
        {
            Prepare(buffers, vectors, messages);
            int got = Libc.Recvmmsg(fd, messages, Burst, LinuxConstants.MsgDontWait, null);
            if (got <= 0)
            {
                Thread.SpinWait(8);
                continue;
            }

            // Echo each datagram with the length it arrived with.
            for (int i = 0; i < got; i++)
            {
                vectors[i].Length = messages[i].Length;
            }

            int done = 0;
            while (done < got && !_peerStop)
            {
                int n = Libc.Sendmmsg(fd, messages + done, (uint)(got - done), LinuxConstants.MsgDontWait);
                done += Math.Max(n, 0);
            }
        }
    }
}
