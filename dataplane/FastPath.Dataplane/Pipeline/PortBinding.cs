using FastPath.Dataplane.Ports;

namespace FastPath.Dataplane.Pipeline;

/// <summary>
/// One path through a worker: frames received on <see cref="Rx"/> go through <see cref="Stage"/> and leave on the
/// egress the stage chose for each (<see cref="Parsing.PacketMeta.Egress"/>): <see cref="Tx"/>, or guest port
/// <c>Egress - 1</c> of <see cref="Guests"/>.
/// </summary>
/// <param name="Rx">Port (or port queue) this worker polls.</param>
/// <param name="Stage">Translation for the side <paramref name="Rx"/> is on; its egress MACs are <paramref name="Tx"/>'s, and
/// a secure→user stage routes to guests in the order of <paramref name="Guests"/>.</param>
/// <param name="Tx">Port translated frames leave through unless the stage picks a guest.</param>
/// <param name="Guests">Guest ports the stage may pick, in its order (empty for most paths).</param>
internal sealed record PortBinding(PacketPort Rx, TranslationStage Stage, PacketPort Tx, IReadOnlyList<PacketPort>? Guests = null)
{
    /// <summary>Every port the stage may pick, indexed by <see cref="Parsing.PacketMeta.Egress"/>.</summary>
    internal PacketPort[] Egresses { get; } = [Tx, .. Guests ?? []];
}
