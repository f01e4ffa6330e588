using System.Runtime.CompilerServices;
using FastPath.Dataplane.Interop;

namespace FastPath.Dataplane.Tests.Interop;

/// <summary>The kernel reads and writes these structs by offset: their sizes and key offsets are the x86-64 UAPI ones.</summary>
public sealed unsafe class KernelStructLayoutTests
{
    [Fact]
    public void Structs_have_the_sizes_of_the_uapi_headers()
    {
        Assert.Equal(28, sizeof(TPacketReq3));      // struct tpacket_req3: 7 × u32
        Assert.Equal(48, sizeof(TPacket3Hdr));      // struct tpacket3_hdr
        Assert.Equal(12, sizeof(TPacketStatsV3));   // struct tpacket_stats_v3
        Assert.Equal(20, sizeof(SockaddrLl));       // struct sockaddr_ll
        Assert.Equal(16, sizeof(PacketMreq));       // struct packet_mreq
        Assert.Equal(40, sizeof(IfReq));            // struct ifreq: IFNAMSIZ + 24-byte union
        Assert.Equal(10, sizeof(VirtioNetHdr));     // struct virtio_net_hdr
    }

    [Fact]
    public void Fields_sit_at_the_uapi_offsets()
    {
        var block = default(TPacketBlockDesc);
        byte* b = (byte*)Unsafe.AsPointer(ref block);
        Assert.Equal(8, (byte*)&block.BlockStatus - b);             // hdr.bh1.block_status
        Assert.Equal(12, (byte*)&block.PacketCount - b);            // hdr.bh1.num_pkts
        Assert.Equal(16, (byte*)&block.OffsetToFirstPacket - b);    // hdr.bh1.offset_to_first_pkt

        var header = default(TPacket3Hdr);
        byte* h = (byte*)Unsafe.AsPointer(ref header);
        Assert.Equal(12, (byte*)&header.SnapLength - h);
        Assert.Equal(20, (byte*)&header.Status - h);
        Assert.Equal(24, (byte*)&header.MacOffset - h);
        Assert.Equal(32, (byte*)&header.VlanTci - h);               // hv1.tp_vlan_tci
        Assert.Equal(36, (byte*)&header.VlanTpid - h);              // hv1.tp_vlan_tpid

        var request = default(IfReq);
        byte* r = (byte*)Unsafe.AsPointer(ref request);
        Assert.Equal(16, (byte*)&request.Flags - r);
        Assert.Equal(16, (byte*)&request.Mtu - r);
        Assert.Equal(18, request.HardwareAddress - r);              // ifr_hwaddr.sa_data

        var vnet = default(VirtioNetHdr);
        byte* v = (byte*)Unsafe.AsPointer(ref vnet);
        Assert.Equal(1, &vnet.GsoType - v);
        Assert.Equal(2, (byte*)&vnet.HdrLen - v);
        Assert.Equal(4, (byte*)&vnet.GsoSize - v);
        Assert.Equal(6, (byte*)&vnet.CsumStart - v);
        Assert.Equal(8, (byte*)&vnet.CsumOffset - v);
    }
}
