namespace FastPath.Control.ControlSocket;

/// <summary>The daemon answered a request with an error, or could not be reached.</summary>
/// <param name="code">The protocol error code (<see cref="ControlProtocol"/>), or <c>unreachable</c>.</param>
/// <param name="message">The daemon's explanation.</param>
public sealed class ControlException(string code, string message) : Exception(message)
{
    /// <summary>The protocol error code.</summary>
    public string Code { get; } = code;
}
