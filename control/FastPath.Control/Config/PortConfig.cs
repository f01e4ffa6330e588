using System.Net;

namespace FastPath.Control.Config;

/// <summary>One validated <c>ports.NAME</c> entry.</summary>
/// <remarks>Immutable.</remarks>
public sealed record PortConfig
{
    /// <summary>The port's name (the key under <c>ports</c>).</summary>
    public required string Name { get; init; }

    /// <summary>What kind of port.</summary>
    public required PortKind Kind { get; init; }

    /// <summary>Linux interface (afpacket, tap).</summary>
    public string? Interface { get; init; }

    /// <summary>Own MAC: source of frames sent; null means the interface's address (or a locally administered one).</summary>
    public byte[]? Mac { get; init; }

    /// <summary>Peer MAC: destination of frames sent.</summary>
    public byte[]? Peer { get; init; }

    /// <summary>AF_PACKET RX ring blocks (256 KiB each); null for the port's default.</summary>
    public int? RingBlocks { get; init; }

    /// <summary>AF_PACKET RX ring kind; null for the port's default (blocks).</summary>
    public Dataplane.Ports.AfPacketRxRing? RxRing { get; init; }

    /// <summary>MTU to set on the interface (afpacket, tap); null leaves the interface's.</summary>
    public int? Mtu { get; init; }

    /// <summary>Capture to replay (pcap).</summary>
    public string? Input { get; init; }

    /// <summary>Capture to write (pcap).</summary>
    public string? Output { get; init; }

    /// <summary>Generator: frame size in bytes, FCS included.</summary>
    public int FrameSize { get; init; } = DefaultFrameSize;

    /// <summary>The generator's FrameSize when the config gives none.</summary>
    public const int DefaultFrameSize = 64;

    /// <summary>Generator: distinct flows.</summary>
    public int Flows { get; init; } = DefaultFlows;

    /// <summary>The generator's Flows when the config gives none.</summary>
    public const int DefaultFlows = 1024;

    /// <summary>Generator: mappings its flows are drawn from.</summary>
    public int Mappings { get; init; } = DefaultMappings;

    /// <summary>The generator's Mappings when the config gives none.</summary>
    public const int DefaultMappings = 1024;

    /// <summary>Generator: packets to generate in all (0: until stopped).</summary>
    public long Packets { get; init; }

    /// <summary>Guest: the Unix socket the guest connects to.</summary>
    public string? Socket { get; init; }

    /// <summary>Guest: its tenant (user-side VLAN ID, 0 untagged).</summary>
    public int Tenant { get; init; }

    /// <summary>Guest: its user-side address.</summary>
    public IPAddress? Address { get; init; }

    /// <summary>Guest: most frames it may hold at once.</summary>
    public int MaxFrames { get; init; } = Dataplane.Pipeline.GuestPlan.DefaultMaxHeldFrames;
}
