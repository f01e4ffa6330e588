using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text.Json;
using FastPath.Control.Config;
using Microsoft.Extensions.ObjectPool;
using FastPath.Vtpm.Protocol;

namespace FastPath.Control.ControlSocket;

/// <summary>
/// The daemon's control socket: frames requests (<see cref="ControlProtocol"/>), hands each to the
/// <see cref="ControlHandler"/> and writes its response. Every connection is an independent async loop, so a slow
/// or hostile client holds only its own connection: a frame must arrive within <see cref="FrameTimeout"/> of its
/// first byte, an idle connection is closed after <see cref="IdleTimeout"/>, a response the client does not read
/// within <see cref="FrameTimeout"/> closes it, and at most <see cref="MaxConnections"/> are open at once. Workers
/// never wait on anything here: handlers only publish to the mapping table.
/// </summary>
/// <remarks>Thread-safe: connections are served concurrently; the handler must be thread-safe.</remarks>
public sealed class ControlServer : PipeListener
{
    // Response builders are pooled: a stats poller every second would otherwise allocate a fresh buffer each time.
    private static readonly ObjectPool<ArrayBufferWriter<byte>> s_buffers =
        new DefaultObjectPool<ArrayBufferWriter<byte>>(new BufferPolicy(), maximumRetained: 16);

    // A flush returns only once the socket's send loop has taken every byte (pause and resume at 1 byte):
    // SocketServer disposes the connection as soon as the handler returns, and an error response written just
    // before closing would otherwise be lost. It also makes an unread response visible to the frame timeout.
    private static readonly PipeOptions s_sendOptions = new(pauseWriterThreshold: 1, resumeWriterThreshold: 1, useSynchronizationContext: false);

    // Requests are strict JSON: no comments, and a property given twice is refused rather than last-one-wins.
    private static readonly JsonDocumentOptions s_requestOptions = new() { AllowDuplicateProperties = false };

    private readonly ControlHandler _handler;
    private readonly List<Connection> _open = [];
    private int _connections;

    /// <summary>A server that answers requests with <paramref name="handler"/>; nothing listens until <see cref="Start"/>.</summary>
    public ControlServer(ControlHandler handler) => _handler = handler;

    /// <summary>Connections beyond this many are answered <c>busy</c> and closed.</summary>
    public int MaxConnections { get; init; } = 32;

    /// <summary>How long a connection may sit between requests.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long one request may take to arrive once begun, and one response to be taken by the client.</summary>
    public TimeSpan FrameTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Connections open now.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Connections open now and idle between requests (the ones a newcomer may take the slot of).</summary>
    internal int IdleConnections
    {
        get
        {
            lock (_open)
            {
                return _open.Count(c => c.IdleSince is not null);
            }
        }
    }

    /// <summary>
    /// Listens on <paramref name="endpoint"/>. A Unix socket is created 0600 in a directory that must exist; a
    /// stale socket file left by a dead daemon is replaced, and anything else at the path (a regular file, a live
    /// daemon's socket) is refused, never deleted (<see cref="UnixSocketPath"/>).
    /// </summary>
    /// <exception cref="IOException">The path is refused or another daemon listens there.</exception>
    public void Start(ControlEndpoint endpoint) => Listen(endpoint.EndPoint, 64, s_sendOptions, null);

    /// <inheritdoc />
    protected override Task OnClientConnectedAsync(IDuplexPipe transport, Socket client) => ServeAsync(transport);

    private async Task ServeAsync(IDuplexPipe transport)
    {
        PipeReader input = transport.Input;
        PipeWriter output = transport.Output;
        using var timeout = new CancellationTokenSource();
        var connection = new Connection(timeout);
        try
        {
            if (!Admit(connection))
            {
                await SendAsync(output, null, null, ControlReply.Error(ControlProtocol.Busy, $"the daemon already has {MaxConnections} control connections, all in the middle of a request"), timeout.Token).ConfigureAwait(false);
                return;
            }

            await LoopAsync(input, output, connection).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            // The client was too slow (a stalled request or an unread response), or idle while a newcomer needed
            // its slot: its connection alone is closed.
        }
        catch (IOException)
        {
            // The client reset the connection.
        }
        finally
        {
            lock (_open)
            {
                _open.Remove(connection);
                Volatile.Write(ref _connections, _open.Count);
            }

            await input.CompleteAsync().ConfigureAwait(false);
            await output.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Takes a slot for <paramref name="connection"/>; when all are taken, the connection idle the longest
    /// between requests gives up its own (so idle clients cannot lock operators out). False when every one is
    /// inside a request, which its deadline ends within <see cref="FrameTimeout"/>.</summary>
    private bool Admit(Connection connection)
    {
        Connection? evicted = null;
        lock (_open)
        {
            if (_open.Count >= MaxConnections)
            {
                foreach (Connection other in _open)
                {
                    if (other.IdleSince is long since && (evicted?.IdleSince is not long oldest || since < oldest))
                    {
                        evicted = other;
                    }
                }

                if (evicted is null)
                {
                    return false;
                }

                _open.Remove(evicted);
                evicted.IdleSince = null;
            }

            _open.Add(connection);
            Volatile.Write(ref _connections, _open.Count);
        }

        evicted?.Timeout.Cancel();
        return true;
    }

    private async Task LoopAsync(PipeReader input, PipeWriter output, Connection connection)
    {
        CancellationTokenSource timeout = connection.Timeout;
        byte[] body = new byte[ControlProtocol.MaxRequestBytes];
        long skip = 0;
        bool partial = false;
        long requestStarted = 0;
        while (true)
        {
            // Between requests a client may idle; once a request (or a skipped body) has begun, the whole of it
            // must arrive within the frame timeout of its first byte (not of each chunk: a client trickling a
            // byte a second would otherwise hold its slot for ever).
            if (skip == 0 && !partial)
            {
                requestStarted = 0;
                SetIdle(connection, true);
                timeout.CancelAfter(IdleTimeout);
            }
            else
            {
                TimeSpan left = FrameTimeout - System.Diagnostics.Stopwatch.GetElapsedTime(requestStarted);
                timeout.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1));
            }

            ReadResult read = await input.ReadAsync(timeout.Token).ConfigureAwait(false);
            if (requestStarted == 0)
            {
                requestStarted = System.Diagnostics.Stopwatch.GetTimestamp();
                SetIdle(connection, false);
            }

            ReadOnlySequence<byte> buffer = read.Buffer;
            while (true)
            {
                if (skip > 0)
                {
                    long dropped = Math.Min(skip, buffer.Length);
                    buffer = buffer.Slice(dropped);
                    skip -= dropped;
                    if (skip > 0)
                    {
                        break;
                    }
                }

                if (buffer.Length < ControlProtocol.PrefixBytes)
                {
                    if (read.IsCompleted && buffer.Length > 0)
                    {
                        await SendAsync(output, null, null, ControlReply.Error(ControlProtocol.BadRequest, $"the stream ended inside a length prefix ({buffer.Length} of {ControlProtocol.PrefixBytes} bytes)"), timeout.Token).ConfigureAwait(false);
                        return;
                    }

                    break;
                }

                uint length = ReadLength(buffer);
                if (length == 0 || length > ControlProtocol.MaxSkippableBytes)
                {
                    await SendAsync(output, null, null, ControlReply.Error(ControlProtocol.TooLarge, $"a request of {length} bytes cannot be framed (1-{ControlProtocol.MaxRequestBytes} bytes); closing the connection"), timeout.Token).ConfigureAwait(false);
                    return;
                }

                if (length > ControlProtocol.MaxRequestBytes)
                {
                    buffer = buffer.Slice(ControlProtocol.PrefixBytes);
                    skip = length;
                    await SendAsync(output, null, null, ControlReply.Error(ControlProtocol.TooLarge, $"a request of {length} bytes exceeds the {ControlProtocol.MaxRequestBytes}-byte limit; its body is discarded"), timeout.Token).ConfigureAwait(false);
                    continue;
                }

                if (buffer.Length < ControlProtocol.PrefixBytes + length)
                {
                    if (read.IsCompleted)
                    {
                        await SendAsync(output, null, null, ControlReply.Error(ControlProtocol.BadRequest, $"the stream ended inside a request ({buffer.Length - ControlProtocol.PrefixBytes} of {length} bytes)"), timeout.Token).ConfigureAwait(false);
                        return;
                    }

                    break;
                }

                buffer.Slice(ControlProtocol.PrefixBytes, length).CopyTo(body);
                buffer = buffer.Slice(ControlProtocol.PrefixBytes + length);
                await HandleAsync(body.AsMemory(0, (int)length), output, timeout).ConfigureAwait(false);

                // Whatever follows in the buffer is the start of the next request: its deadline starts now.
                requestStarted = System.Diagnostics.Stopwatch.GetTimestamp();
            }

            partial = !buffer.IsEmpty;
            input.AdvanceTo(buffer.Start, buffer.End);
            if (!partial && skip == 0)
            {
                requestStarted = 0;
            }
            if (read.IsCompleted)
            {
                return;
            }
        }
    }

    private void SetIdle(Connection connection, bool idle)
    {
        lock (_open)
        {
            connection.IdleSince = idle ? System.Diagnostics.Stopwatch.GetTimestamp() : null;
        }
    }

    private static uint ReadLength(ReadOnlySequence<byte> buffer)
    {
        Span<byte> prefix = stackalloc byte[ControlProtocol.PrefixBytes];
        buffer.Slice(0, ControlProtocol.PrefixBytes).CopyTo(prefix);
        return BinaryPrimitives.ReadUInt32BigEndian(prefix);
    }

    private async Task HandleAsync(ReadOnlyMemory<byte> body, PipeWriter output, CancellationTokenSource timeout)
    {
        long? id = null;
        JsonDocument document;
        try
        {
            if (JsonInput.FindInvalidUtf8(body.Span) is string where)
            {
                await SendAsync(output, null, null, ControlReply.Error(ControlProtocol.BadRequest, $"not JSON: {where}"), timeout.Token).ConfigureAwait(false);
                return;
            }

            document = JsonDocument.Parse(body, s_requestOptions);
        }
        catch (JsonException error)
        {
            await SendAsync(output, null, null, ControlReply.Error(ControlProtocol.BadRequest, $"not JSON: {JsonInput.Describe(error)}"), timeout.Token).ConfigureAwait(false);
            return;
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            ControlReply reply;
            string? verb = null;
            if (root.ValueKind != JsonValueKind.Object)
            {
                reply = ControlReply.Error(ControlProtocol.BadRequest, "a request is a JSON object with v, id and verb");
            }
            else
            {
                if (root.TryGetProperty("id", out JsonElement idElement) && idElement.ValueKind == JsonValueKind.Number && idElement.TryGetInt64(out long parsed))
                {
                    id = parsed;
                }

                reply = Check(root, ref verb) ?? await Dispatch(verb!, root, timeout).ConfigureAwait(false);
            }

            // The client has the frame timeout to take the response.
            timeout.CancelAfter(FrameTimeout);

            await SendAsync(output, id, verb, reply, timeout.Token).ConfigureAwait(false);
        }
    }

    private static ControlReply? Check(JsonElement root, ref string? verb)
    {
        if (!root.TryGetProperty("v", out JsonElement version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out int v))
        {
            return ControlReply.Error(ControlProtocol.BadRequest, "missing \"v\" (protocol version, an integer)");
        }

        if (v != ControlProtocol.Version)
        {
            return ControlReply.Error(ControlProtocol.UnsupportedVersion, $"protocol version {v} is not supported (this daemon speaks {ControlProtocol.Version})");
        }

        if (!root.TryGetProperty("id", out JsonElement id) || id.ValueKind != JsonValueKind.Number || !id.TryGetInt64(out _))
        {
            return ControlReply.Error(ControlProtocol.BadRequest, "missing \"id\" (an integer request id)");
        }

        if (!root.TryGetProperty("verb", out JsonElement verbElement) || verbElement.ValueKind != JsonValueKind.String)
        {
            return ControlReply.Error(ControlProtocol.BadRequest, "missing \"verb\"");
        }

        verb = verbElement.GetString();
        if (root.TryGetProperty("args", out JsonElement args) && args.ValueKind != JsonValueKind.Object)
        {
            return ControlReply.Error(ControlProtocol.BadRequest, "\"args\" must be an object");
        }

        return null;
    }

    private async ValueTask<ControlReply> Dispatch(string verb, JsonElement root, CancellationTokenSource timeout)
    {
        JsonElement args = root.TryGetProperty("args", out JsonElement a) ? a : default;

        // The handler runs without the connection's timeout: a long import must not be cut off by the frame timer.
        timeout.CancelAfter(Timeout.InfiniteTimeSpan);
        try
        {
            return await _handler(verb, args, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            return ControlReply.Error(ControlProtocol.Internal, error.Message);
        }
    }

    private async ValueTask SendAsync(PipeWriter output, long? id, string? verb, ControlReply reply, CancellationToken cancellation)
    {
        ArrayBufferWriter<byte> buffer = s_buffers.Get();
        try
        {
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteNumber("v", ControlProtocol.Version);
                if (id is long value)
                {
                    json.WriteNumber("id", value);
                }
                else
                {
                    json.WriteNull("id");
                }

                if (verb is not null)
                {
                    json.WriteString("verb", verb);
                }

                json.WriteBoolean("ok", reply.ErrorCode is null);
                if (reply.WriteResult is { } write)
                {
                    json.WriteStartObject("result");
                    write(json);
                    json.WriteEndObject();
                }
                else
                {
                    json.WriteStartObject("error");
                    json.WriteString("code", reply.ErrorCode);
                    json.WriteString("message", reply.ErrorMessage);
                    json.WriteEndObject();
                }

                json.WriteEndObject();
            }

            BinaryPrimitives.WriteUInt32BigEndian(output.GetSpan(ControlProtocol.PrefixBytes), (uint)buffer.WrittenCount);
            output.Advance(ControlProtocol.PrefixBytes);
            output.Write(buffer.WrittenSpan);
            FlushResult flush = await output.FlushAsync(cancellation).ConfigureAwait(false);
            if (flush.IsCompleted)
            {
                throw new IOException("the client closed its side");
            }
        }
        finally
        {
            s_buffers.Return(buffer);
        }
    }

    /// <summary>One open connection: its timer, and since when it has been idle between requests (null: inside
    /// one, or handling it). <see cref="IdleSince"/> changes under the server's <c>_open</c> lock.</summary>
    private sealed class Connection(CancellationTokenSource timeout)
    {
        public CancellationTokenSource Timeout { get; } = timeout;

        public long? IdleSince { get; set; }
    }

    private sealed class BufferPolicy : PooledObjectPolicy<ArrayBufferWriter<byte>>
    {
        public override ArrayBufferWriter<byte> Create() => new(4096);

        public override bool Return(ArrayBufferWriter<byte> obj)
        {
            // A huge map.list answer is not worth keeping around.
            if (obj.Capacity > 1024 * 1024)
            {
                return false;
            }

            obj.ResetWrittenCount();
            return true;
        }
    }
}
