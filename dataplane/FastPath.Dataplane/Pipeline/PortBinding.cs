using FastPath.Dataplane.Ports;

namespace FastPath.Dataplane.Pipeline;

/// <summary>One path through a worker: frames received on <see cref="Rx"/> go through <see cref="Stage"/> and leave on <see cref="Tx"/>.</summary>
/// <param name="Rx">Port (or port queue) this worker polls.</param>
/// <param name="Stage">Translation for the side <paramref name="Rx"/> is on; its egress MACs are <paramref name="Tx"/>'s.</param>
/// <param name="Tx">Port translated frames leave through.</param>
internal sealed record PortBinding(PacketPort Rx, TranslationStage Stage, PacketPort Tx);
