namespace FastPath.Dataplane.Tests.Pipeline;

/// <summary>One case of icmp_error_cases.py: what arrives, and either the exact frame that must leave or the drop reason.</summary>
/// <param name="Name">Readable description printed on failure.</param>
/// <param name="Direction"><c>u2s</c> (arrives on the user side) or <c>s2u</c>.</param>
/// <param name="Input">The arriving frame.</param>
/// <param name="Expected">The frame scapy built with every checksum computed in full; null when the message must be dropped.</param>
/// <param name="Drop">The drop reason's name, or null.</param>
/// <param name="BadSum">Offset of the outer ICMP checksum in <paramref name="Expected"/> when the input's was deliberately wrong, else -1.</param>
internal sealed record IcmpCase(string Name, string Direction, byte[] Input, byte[]? Expected, string? Drop, int BadSum);
