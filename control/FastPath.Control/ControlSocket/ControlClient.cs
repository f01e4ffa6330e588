using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text.Json;
using FastPath.Control.Config;

namespace FastPath.Control.ControlSocket;

/// <summary>A blocking control-socket client for the CLI: one request at a time, responses matched by id.</summary>
/// <remarks>Not thread-safe: one caller at a time.</remarks>
public sealed class ControlClient : IDisposable
{
    private readonly Socket _socket;
    private long _nextId = 1;

    private ControlClient(Socket socket) => _socket = socket;

    /// <summary>Connects to the daemon at <paramref name="endpoint"/>.</summary>
    /// <exception cref="ControlException">Nobody listens there (code <c>unreachable</c>).</exception>
    public static ControlClient Connect(ControlEndpoint endpoint, TimeSpan? timeout = null)
    {
        var socket = new Socket(endpoint.Family, SocketType.Stream, endpoint.Protocol);
        try
        {
            socket.Connect(endpoint.EndPoint);
        }
        catch (SocketException error)
        {
            socket.Dispose();
            throw new ControlException("unreachable", $"no daemon at {endpoint.Text} ({error.Message})");
        }

        int milliseconds = (int)(timeout ?? TimeSpan.FromMinutes(5)).TotalMilliseconds;
        socket.ReceiveTimeout = milliseconds;
        socket.SendTimeout = milliseconds;
        return new ControlClient(socket);
    }

    /// <summary>Sends <paramref name="verb"/> with the arguments <paramref name="writeArgs"/> writes; returns the result object.</summary>
    /// <exception cref="ControlException">The daemon answered with an error.</exception>
    public JsonDocument Call(string verb, Action<Utf8JsonWriter>? writeArgs = null)
    {
        long id = _nextId++;
        var body = new MemoryStream();
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteNumber("v", ControlProtocol.Version);
            json.WriteNumber("id", id);
            json.WriteString("verb", verb);
            if (writeArgs is not null)
            {
                json.WriteStartObject("args");
                writeArgs(json);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        SendRaw(body.ToArray(), prefix: true);
        JsonDocument response = Receive();
        JsonElement root = response.RootElement;
        if (!root.TryGetProperty("id", out JsonElement echoed) || echoed.ValueKind != JsonValueKind.Number || echoed.GetInt64() != id)
        {
            response.Dispose();
            throw new ControlException("protocol", $"the daemon answered request {id} with another id");
        }

        return Unwrap(response);
    }

    /// <summary>Writes raw bytes, with a length prefix if <paramref name="prefix"/> (tests use this for bad input).</summary>
    public void SendRaw(ReadOnlySpan<byte> bytes, bool prefix)
    {
        if (prefix)
        {
            Span<byte> header = stackalloc byte[ControlProtocol.PrefixBytes];
            BinaryPrimitives.WriteUInt32BigEndian(header, (uint)bytes.Length);
            SendAll(header);
        }

        SendAll(bytes);
    }

    /// <summary>Closes the sending side (the daemon sees the end of the stream).</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>Reads one response; null when the daemon closed the connection.</summary>
    public JsonDocument? TryReceive()
    {
        Span<byte> header = stackalloc byte[ControlProtocol.PrefixBytes];
        if (!ReceiveAll(header))
        {
            return null;
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length == 0 || length > ControlProtocol.MaxResponseBytes)
        {
            throw new ControlException("protocol", $"the daemon announced a response of {length} bytes");
        }

        byte[] body = new byte[length];
        return ReceiveAll(body) ? JsonDocument.Parse(body) : throw new ControlException("protocol", "the daemon closed the connection inside a response");
    }

    /// <summary>Reads one response.</summary>
    public JsonDocument Receive() => TryReceive() ?? throw new ControlException("unreachable", "the daemon closed the connection");

    /// <summary>Returns the result of a response document, or throws its error.</summary>
    public static JsonDocument Unwrap(JsonDocument response)
    {
        JsonElement root = response.RootElement;
        if (root.TryGetProperty("ok", out JsonElement ok) && ok.ValueKind == JsonValueKind.True)
        {
            return response;
        }

        string code = "protocol";
        string message = "malformed response";
        if (root.TryGetProperty("error", out JsonElement error))
        {
            code = error.GetProperty("code").GetString() ?? code;
            message = error.GetProperty("message").GetString() ?? message;
        }

        response.Dispose();
        throw new ControlException(code, message);
    }

    /// <inheritdoc />
    public void Dispose() => _socket.Dispose();

    private void SendAll(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            bytes = bytes[_socket.Send(bytes)..];
        }
    }

    private bool ReceiveAll(Span<byte> bytes)
    {
        int got = 0;
        while (got < bytes.Length)
        {
            int n = _socket.Receive(bytes[got..]);
            if (n == 0)
            {
                if (got == 0)
                {
                    return false;
                }

                throw new ControlException("protocol", "the daemon closed the connection inside a response");
            }

            got += n;
        }

        return true;
    }
}
