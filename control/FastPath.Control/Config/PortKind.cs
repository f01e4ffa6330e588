namespace FastPath.Control.Config;

/// <summary>The kinds of port a configuration may name (<c>"type"</c>).</summary>
public enum PortKind
{
    /// <summary>A Linux interface through an AF_PACKET TPACKET_V3 socket; fanned out over the workers.</summary>
    AfPacket,

    /// <summary>A TAP device FastPath creates (or attaches to); one worker owns it.</summary>
    Tap,

    /// <summary>A capture file to replay and/or write; one worker owns it.</summary>
    Pcap,

    /// <summary>An in-memory traffic generator (receive side only), split over the workers.</summary>
    Generator,

    /// <summary>An in-memory sink that counts what it is sent.</summary>
    Sink,

    /// <summary>A guest channel: a user-side port whose far end is a guest process on a Unix socket (payloads only).</summary>
    Guest,
}
