using System.Text.Json;

namespace FastPath.Control.ControlSocket;

/// <summary>Answers one request: <paramref name="verb"/> with its <paramref name="args"/> (an object, or undefined when absent).</summary>
/// <remarks>Called concurrently for different connections; a slow verb should await its work, not block the caller.</remarks>
public delegate ValueTask<ControlReply> ControlHandler(string verb, JsonElement args, CancellationToken cancellation);
