using System.Text.Json;

namespace FastPath.Control.ControlSocket;

/// <summary>What a handler answers: a result written by <see cref="WriteResult"/>, or an error code and message.</summary>
/// <remarks>Immutable.</remarks>
public sealed class ControlReply
{
    private ControlReply(Action<Utf8JsonWriter>? writeResult, string? code, string? message)
    {
        WriteResult = writeResult;
        ErrorCode = code;
        ErrorMessage = message;
    }

    /// <summary>Writes the result object's members (the writer is inside <c>"result":{</c>); null for an error.</summary>
    public Action<Utf8JsonWriter>? WriteResult { get; }

    /// <summary>The error code (<see cref="ControlProtocol"/>), null on success.</summary>
    public string? ErrorCode { get; }

    /// <summary>Why the request failed, null on success.</summary>
    public string? ErrorMessage { get; }

    /// <summary>A success whose result members <paramref name="write"/> writes.</summary>
    public static ControlReply Ok(Action<Utf8JsonWriter> write) => new(write, null, null);

    /// <summary>A success with an empty result.</summary>
    public static ControlReply Ok() => new(static _ => { }, null, null);

    /// <summary>A failure.</summary>
    public static ControlReply Error(string code, string message) => new(null, code, message);
}
