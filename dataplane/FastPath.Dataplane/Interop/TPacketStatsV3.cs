using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Interop;

/// <summary><c>struct tpacket_stats_v3</c>: PACKET_STATISTICS for a TPACKET_V3 socket (reading resets them).</summary>
/// <remarks>Plain data filled by getsockopt.</remarks>
[StructLayout(LayoutKind.Sequential)]
internal struct TPacketStatsV3
{
    /// <summary>Frames the socket saw, drops included.</summary>
    public uint Packets;

    /// <summary>Frames dropped because the ring had no room.</summary>
    public uint Drops;

    /// <summary>Times the ring was frozen (every block owned by user space).</summary>
    public uint FreezeQueueCount;
}
