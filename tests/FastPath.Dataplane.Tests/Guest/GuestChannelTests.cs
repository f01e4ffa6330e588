using System.Net;
using FastPath.Dataplane.Guest;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Ports;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Guest;

/// <summary>
/// The guest channel against a running worker, a real frame pool and a real Unix socket: config (a mapping and a
/// guest port bound to its user address) → send secure-side frames → verify what the guest sees and what leaves.
/// </summary>
public sealed unsafe class GuestChannelTests
{
    private static readonly IPAddress s_remote = IPAddress.Parse("198.18.1.9");

    [Theory]
    [InlineData(100, "10.1.0.5", "198.18.0.5", "198.18.1.9")]
    [InlineData(0, "fd00::5", "2001:db8::5", "2001:db8:1::9")]
    public void The_echo_guest_answers_through_the_worker_with_translated_addresses_and_valid_checksums(int tenant, string user, string secure, string remote)
    {
        const int Packets = 100;
        using var lab = new GuestLab((ushort)tenant, IPAddress.Parse(user), IPAddress.Parse(secure));
        using GuestClient client = GuestClient.Connect(lab.SocketPath);
        using var stop = new CancellationTokenSource();
        long echoed = -1;
        var echo = new Thread(() => echoed = GuestEcho.Run(client, stop.Token)) { IsBackground = true };
        echo.Start();
        GuestLab.WaitFor(() => lab.Port.Connected, "the worker to adopt the guest");

        for (int i = 0; i < Packets; i++)
        {
            lab.Secure.Enqueue(GuestLab.SecureFrame(IPAddress.Parse(remote), (ushort)(5000 + i), IPAddress.Parse(secure), 7, 18 + i));
        }

        GuestLab.WaitFor(() => lab.Secure.Sent.Count >= Packets, "the echoed replies");
        stop.Cancel();
        echo.Join();
        Assert.Equal(Packets, echoed);
        Assert.Empty(lab.User.Sent); // the guest's address is routed to the guest, not the user port

        string pcap = Path.Combine(lab.Directory, "replies.pcap");
        using (CaptureWriter writer = CaptureWriter.Create(pcap, new CaptureFormat(CaptureFileKind.Pcap, Nanoseconds: false)))
        {
            foreach (byte[] frame in lab.Secure.Sent)
            {
                writer.Write(frame, 0);
            }
        }

        string ip = tenant == 0 ? "ipv6" : "ip";
        IReadOnlyList<string[]> rows = Tshark.Fields(pcap,
            ["eth.src", "eth.dst", "vlan.id", $"{ip}.src", $"{ip}.dst", "udp.srcport", "udp.dstport", "udp.length", "udp.checksum.status", "ip.checksum.status", "udp.payload"],
            ["ip.check_checksum:TRUE", "udp.check_checksum:TRUE"]);
        Assert.Equal(Packets, rows.Count);
        var ports = new HashSet<string>();
        foreach (string[] row in rows)
        {
            Assert.Equal("02:00:00:00:02:01", row[0]);
            Assert.Equal("02:00:00:00:02:02", row[1]);
            Assert.Equal("", row[2]); // the tenant's tag is popped on the way to the secure side
            Assert.Equal(IPAddress.Parse(secure), IPAddress.Parse(row[3]));
            Assert.Equal(IPAddress.Parse(remote), IPAddress.Parse(row[4]));
            Assert.Equal("7", row[5]);
            int payload = int.Parse(row[7], System.Globalization.CultureInfo.InvariantCulture) - 8;
            Assert.Equal($"{5000 + payload - 18}", row[6]);
            Assert.Equal("1", row[8]);
            Assert.Equal(tenant == 0 ? "" : "1", row[9]);
            Assert.Equal(Convert.ToHexStringLower([.. Enumerable.Range(0, payload).Select(b => (byte)b)]), row[10]);
            ports.Add(row[6]);
        }

        Assert.Equal(Packets, ports.Count);
        Assert.Equal(0, lab.Dropped(DropReason.BadDescriptor) + lab.Dropped(DropReason.UnknownFlow) + lab.Dropped(DropReason.TxFull));
    }

    [Fact]
    public void A_port_replaces_a_stale_socket_but_never_a_file_that_is_not_one()
    {
        using var dir = new TempDirectory();
        string path = dir.File("guest.sock");
        using (new GuestPort("g0", path, 0, IPAddress.Parse("10.1.0.5"), 128))
        {
        }

        // A socket left by a killed daemon (bound, never unlinked; .NET would unlink its own on close) is replaced.
        Assert.False(File.Exists(path), "the port removes its socket when disposed");
        ProcessRunner.Run("/usr/bin/python3", "-c", $"import socket; socket.socket(socket.AF_UNIX).bind('{path}')").EnsureSuccess();
        Assert.True(File.Exists(path));
        using (var port = new GuestPort("g0", path, 0, IPAddress.Parse("10.1.0.5"), 128))
        {
            using GuestClient client = GuestClient.Connect(path);
        }

        File.WriteAllText(path, "someone's file");
        IOException refused = Assert.Throws<IOException>(() => new GuestPort("g0", path, 0, IPAddress.Parse("10.1.0.5"), 128));
        Assert.Contains("exists and is not a socket", refused.Message, StringComparison.Ordinal);
        Assert.Equal("someone's file", File.ReadAllText(path));
    }

    [Fact]
    public void The_guest_gets_the_payload_in_its_own_memory_and_a_copy_of_the_metadata_while_the_header_stays_private()
    {
        IPAddress user = IPAddress.Parse("10.1.0.5");
        IPAddress secure = IPAddress.Parse("198.18.0.5");
        using var lab = new GuestLab(100, user, secure);
        using GuestClient client = GuestClient.Connect(lab.SocketPath);
        GuestLab.WaitFor(() => lab.Port.Connected, "the worker to adopt the guest");
        lab.Secure.Enqueue(GuestLab.SecureFrame(s_remote, 4242, secure, 9000, 300));

        var received = new GuestRxDescriptor[4];
        int count = 0;
        GuestLab.WaitFor(() => (count = client.Receive(received)) != 0, "the packet at the guest");
        Assert.Equal(1, count);
        GuestRxDescriptor packet = received[0];
        Assert.Equal((100, 4242, 9000, 17, 4, 300), (packet.Tenant, packet.SourcePort, packet.DestinationPort, packet.Protocol, packet.Family, packet.Length));
        Assert.Equal(s_remote, packet.SourceAddress);
        Assert.Equal(user, packet.DestinationAddress); // translated: the guest sees its own user address
        Assert.Equal(GuestLayout.RxPayloadOffset, packet.PayloadOffset);

        Span<byte> payload = client.Payload(packet);
        for (int i = 0; i < payload.Length; i++)
        {
            Assert.Equal((byte)i, payload[i]);
        }

        // The header (Ethernet + tenant tag + IPv4 + UDP = 46 bytes) is kept in the guest's header slab, which only the
        // data plane maps; the guest's frame holds the payload from its first byte and nothing of the header.
        FramePool frames = lab.Port.GuestFrames!;
        byte* header = frames.Header(packet.FrameIndex) + FramePool.Headroom;
        Assert.Equal([0x81, 0x00, 0x00, 100], new ReadOnlySpan<byte>(header + 12, 4).ToArray());
        Assert.Equal(user.GetAddressBytes(), new ReadOnlySpan<byte>(header + 18 + 16, 4).ToArray());
        Assert.True(client.PayloadSlot(packet.FrameIndex) == client.RegionBase + frames.PayloadOffset(packet.FrameIndex), "guest and data plane disagree on the frame's offset");
        Assert.Equal(1, lab.Port.OwnedFrames - (int)GuestLayout.FillTarget);

        Assert.Equal(1, client.Free([packet.FrameIndex]));
        GuestLab.WaitFor(() => lab.Port.OwnedFrames == (int)GuestLayout.FillTarget, "the freed frame back with the guest's free frames");
    }

    [Fact]
    public void Hostile_descriptors_are_refused_and_counted_and_the_worker_keeps_forwarding()
    {
        IPAddress user = IPAddress.Parse("10.1.0.5");
        using var lab = new GuestLab(100, user, IPAddress.Parse("198.18.0.5"));
        using GuestClient client = GuestClient.Connect(lab.SocketPath);
        uint[] frames = new uint[4];
        int taken = 0;
        GuestLab.WaitFor(() => (taken += client.TakeFrames(frames.AsSpan(taken))) == frames.Length, "empty frames in the fill ring");

        GuestTxDescriptor Valid(uint frame)
        {
            GuestTxDescriptor send = default;
            send.FrameIndex = frame;
            send.PayloadOffset = GuestLayout.NewPayloadOffset;
            send.Length = 32;
            send.SourcePort = 7;
            send.DestinationPort = 5000;
            send.Protocol = 17;
            send.Family = 4;
            s_remote.GetAddressBytes().CopyTo(new Span<byte>(send.Destination, 16));
            return send;
        }

        GuestTxDescriptor outOfRange = Valid(client.FrameCount + 5);
        GuestTxDescriptor notOwned = Valid(client.FrameCount - 1); // a frame of its memory it was never given
        GuestTxDescriptor oversize = Valid(frames[1]);
        oversize.Length = (ushort)client.PayloadSlotSize;
        GuestTxDescriptor tcp = Valid(frames[2]);
        tcp.Protocol = 6;
        GuestTxDescriptor good = Valid(frames[3]);
        GuestTxDescriptor doublePost = Valid(frames[3]);
        Assert.Equal(6, client.Send([outOfRange, notOwned, oversize, tcp, good, doublePost]));
        GuestLab.WaitFor(() => lab.Secure.Sent.Count == 1 && lab.Dropped(DropReason.BadDescriptor) == 4, "the refused sends");
        Assert.Equal(1, lab.Dropped(DropReason.UnknownFlow));

        // Frees go through the same check: out of range, and a frame already sent.
        Assert.Equal(2, client.Free([uint.MaxValue, frames[3]]));
        GuestLab.WaitFor(() => lab.Dropped(DropReason.BadDescriptor) == 6, "the refused frees");

        // Still forwarding: a packet for an unmapped-to-guest address goes out through the user port.
        Assert.Equal(MappingAddResult.Added, lab.Table.Add(MappingEntry.Create(100, IPAddress.Parse("10.1.0.6"), IPAddress.Parse("198.18.0.6"))));
        lab.Secure.Enqueue(GuestLab.SecureFrame(s_remote, 1, IPAddress.Parse("198.18.0.6"), 2, 10));
        GuestLab.WaitFor(() => lab.User.Sent.Count == 1, "forwarding after the refusals");
        Assert.True(lab.WorkerRunning);
    }

    [Fact]
    public void A_guest_that_hoards_frames_stops_at_its_quota_and_packets_for_it_are_dropped()
    {
        const int Quota = 40;
        IPAddress secure = IPAddress.Parse("198.18.0.5");
        using var lab = new GuestLab(100, IPAddress.Parse("10.1.0.5"), secure, Quota);
        using GuestClient client = GuestClient.Connect(lab.SocketPath);
        uint[] hoard = new uint[256];
        int taken = 0;
        GuestLab.WaitFor(() => (taken += client.TakeFrames(hoard.AsSpan(taken))) == Quota, "the guest to take its whole quota");
        uint workerFree = lab.Pool.FreeCount;
        Assert.Equal((uint)Quota, client.FrameCount); // its memory is its quota, nothing more

        for (int i = 0; i < 10; i++)
        {
            lab.Secure.Enqueue(GuestLab.SecureFrame(s_remote, 1, secure, 2, 16));
        }

        GuestLab.WaitFor(() => lab.Dropped(DropReason.TxFull) == 10, "the packets for the hoarding guest to be dropped");
        Assert.Equal(Quota, lab.Port.OwnedFrames);
        Assert.Equal(0u, lab.Port.GuestFrames!.FreeCount);
        Assert.Equal(workerFree, lab.Pool.FreeCount); // the workers' frames are never a guest's

        // Frames it gives back count against the quota no more: the fill ring offers new ones.
        Assert.Equal(0, client.TakeFrames(hoard.AsSpan(taken)));
        Assert.Equal(10, client.Free(hoard.AsSpan(0, 10)));
        GuestLab.WaitFor(() => client.TakeFrames(hoard.AsSpan(taken, 1)) == 1, "the quota to be usable again");
    }

    [Fact]
    public void A_guest_that_disconnects_takes_nothing_with_it_and_the_next_guest_sees_none_of_its_data()
    {
        IPAddress secure = IPAddress.Parse("198.18.0.5");
        using var lab = new GuestLab(100, IPAddress.Parse("10.1.0.5"), secure);
        uint workerFree = lab.Pool.FreeCount;
        using (GuestClient client = GuestClient.Connect(lab.SocketPath))
        {
            GuestLab.WaitFor(() => lab.Port.Connected, "the worker to adopt the guest");
            for (int i = 0; i < 40; i++)
            {
                lab.Secure.Enqueue(GuestLab.SecureFrame(s_remote, 1, secure, 2, 64));
            }

            // Ten taken, never sent or freed; the other thirty still on its RX ring.
            var some = new GuestRxDescriptor[10];
            int taken = 0;
            GuestLab.WaitFor(() => (taken += client.Receive(some.AsSpan(taken))) == some.Length, "ten packets on the guest's RX ring");
            GuestLab.WaitFor(() => lab.Port.OwnedFrames == 40 + (int)GuestLayout.FillTarget, "packets queued at the guest");
            Assert.Equal(workerFree, lab.Pool.FreeCount);

            // The guest writes all over its memory, as a guest may.
            new Span<byte>(client.RegionBase + client.PayloadSegmentOffset, (int)(client.FrameCount * (uint)client.PayloadSlotSize)).Fill(0xEE);

            // One guest per port: a second one is turned away with a message, the first keeps its channel.
            InvalidDataException refused = Assert.Throws<InvalidDataException>(() => GuestClient.Connect(lab.SocketPath));
            Assert.Contains("another guest", refused.Message, StringComparison.Ordinal);
            Assert.True(lab.Port.Connected);
        }

        GuestLab.WaitFor(() => !lab.Port.Connected, "the worker to let the guest go");
        using GuestClient next = GuestClient.Connect(lab.SocketPath);
        GuestLab.WaitFor(() => lab.Port.Connected, "a second guest");

        // New memory: nothing the first guest received or wrote is in what the second one maps.
        var memory = new ReadOnlySpan<byte>(next.RegionBase + next.PayloadSegmentOffset, (int)(next.FrameCount * (uint)next.PayloadSlotSize));
        Assert.True(memory.IndexOfAnyExcept((byte)0) < 0, "the next guest's memory holds data from before it");
        Assert.Equal(workerFree, lab.Pool.FreeCount);
        Assert.True(lab.WorkerRunning);
    }

    [Theory]
    [InlineData("header")]
    [InlineData("header-end")]
    [InlineData("before-start")]
    [InlineData("past-end")]
    public void A_guest_that_touches_anything_outside_its_payload_memory_dies_of_SIGSEGV_and_the_data_plane_keeps_forwarding(string where)
    {
        const int KilledBySigsegv = 128 + 11;
        IPAddress secure = IPAddress.Parse("198.18.0.5");
        using var lab = new GuestLab(100, IPAddress.Parse("10.1.0.5"), secure);
        Assert.Equal(MappingAddResult.Added, lab.Table.Add(MappingEntry.Create(100, IPAddress.Parse("10.1.0.6"), IPAddress.Parse("198.18.0.6"))));

        string probe = Path.Combine(AppContext.BaseDirectory, "FastPath.Dataplane.Probe");
        ProcessResult result = where == "header"
            ? ProcessRunner.Run(probe, ["guest-probe-header", lab.SocketPath], TimeSpan.FromSeconds(60))
            : ProcessRunner.Run(probe, ["guest-probe-" + where, lab.SocketPath], TimeSpan.FromSeconds(60));
        Assert.True(result.ExitCode == KilledBySigsegv, $"expected SIGSEGV (139), got {result.ExitCode}\n{result.StandardOutput}\n{result.StandardError}");
        Assert.Contains("touching ", result.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("read ", result.StandardOutput, StringComparison.Ordinal);

        GuestLab.WaitFor(() => !lab.Port.Connected, "the dead guest let go");
        for (int i = 0; i < 10; i++)
        {
            lab.Secure.Enqueue(GuestLab.SecureFrame(s_remote, 1, IPAddress.Parse("198.18.0.6"), 2, 10));
        }

        GuestLab.WaitFor(() => lab.User.Sent.Count == 10, "forwarding after the guest died");
        Assert.True(lab.WorkerRunning);
    }
}
