using System.Net;
using System.Net.Sockets;

namespace FastPath.Dataplane.Ports;

/// <summary>What <see cref="TrafficGenerator"/> sends: UDP frames over F flows, on one interface, bounded by a count.</summary>
/// <remarks>Immutable once built; <see cref="Validate"/> says what is wrong in one line.</remarks>
public sealed class TrafficGeneratorOptions
{
    /// <summary>The first source port; flow f uses port <c>FirstSourcePort + f</c> until ports run out, then the next source address.</summary>
    public const ushort FirstSourcePort = 1024;

    /// <summary>Flows per source address: one per source port from <see cref="FirstSourcePort"/> to 65535.</summary>
    public const int PortsPerAddress = 65536 - FirstSourcePort;

    /// <summary>The interface to send on.</summary>
    public required string InterfaceName { get; init; }

    /// <summary>Frames to send (the only bound: every run ends).</summary>
    public long Count { get; init; } = 1_000_000;

    /// <summary>Frames per second, or 0 for as fast as the kernel takes them.</summary>
    public long Rate { get; init; }

    /// <summary>Frame size in bytes on the wire including the 4-byte FCS, as RFC 2544 counts it (64 = minimum Ethernet frame).</summary>
    public int FrameSize { get; init; } = 64;

    /// <summary>Distinct flows (source address, source port); frame i belongs to flow i mod F.</summary>
    public int Flows { get; init; } = 1;

    /// <summary>The first source address (flows beyond <see cref="PortsPerAddress"/> count up from it).</summary>
    public IPAddress Source { get; init; } = IPAddress.Parse("198.18.0.1");

    /// <summary>The destination address (same family as <see cref="Source"/>).</summary>
    public IPAddress Destination { get; init; } = IPAddress.Parse("198.19.0.1");

    /// <summary>The UDP destination port (9: discard).</summary>
    public ushort DestinationPort { get; init; } = 9;

    /// <summary>802.1Q VLAN ID 1–4094, or 0 for untagged frames.</summary>
    public int Vlan { get; init; }

    /// <summary>Source MAC, or null for the interface's own address.</summary>
    public byte[]? SourceMac { get; init; }

    /// <summary>Destination MAC, or null for broadcast (any peer takes it; give FastPath's port MAC to forward through it).</summary>
    public byte[]? DestinationMac { get; init; }

    /// <summary>How long the interface may take no frame at all before the run fails (link down, peer not draining).</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    internal bool IsIpv6 => Source.AddressFamily == AddressFamily.InterNetworkV6;

    /// <summary>The frame length handed to the kernel: <see cref="FrameSize"/> without the FCS the NIC appends.</summary>
    internal int FrameLength => FrameSize - 4;

    internal int PayloadLength => FrameLength - UdpFrameBuilder.FrameLength(IsIpv6, Vlan != 0, 0);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option that is out of range.</summary>
    public void Validate()
    {
        if (Count < 1)
        {
            throw new ArgumentException($"--count {Count}: must be at least 1");
        }

        if (Rate < 0)
        {
            throw new ArgumentException($"--rate {Rate}: must be a positive number of packets per second, or 'max'");
        }

        if (Flows < 1)
        {
            throw new ArgumentException($"--flows {Flows}: must be at least 1");
        }

        if (Vlan is < 0 or > Tenant.Max)
        {
            throw new ArgumentException($"--vlan {Vlan}: must be 1 to {Tenant.Max} (omit it for untagged frames)");
        }

        if (Source.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6) || Source.AddressFamily != Destination.AddressFamily)
        {
            throw new ArgumentException($"--src {Source} and --dst {Destination}: must be both IPv4 or both IPv6");
        }

        if (!IsIpv6 && (long)(Flows - 1) / PortsPerAddress + ((long)AddressValue(Source)) > uint.MaxValue)
        {
            throw new ArgumentException($"--flows {Flows}: counting up from --src {Source} runs past 255.255.255.255");
        }

        int minimum = UdpFrameBuilder.FrameLength(IsIpv6, Vlan != 0, 0) + 4;
        if (FrameSize < Math.Max(64, minimum) || FrameSize > 65536 - 48 + 4)
        {
            throw new ArgumentException($"--size {FrameSize}: must be between {Math.Max(64, minimum)} (headers and FCS) and 65492");
        }

        if (SourceMac is { Length: not 6 } || DestinationMac is { Length: not 6 })
        {
            throw new ArgumentException("a MAC address has 6 bytes");
        }
    }

    private static uint AddressValue(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }
}
