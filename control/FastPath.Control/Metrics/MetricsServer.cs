using System.Net;
using System.Net.Sockets;
using System.Text;
using FastPath.Control.Stats;

namespace FastPath.Control.Metrics;

/// <summary>
/// A minimal HTTP/1.1 responder for Prometheus scrapes: <c>GET /metrics</c> answers the text exposition and closes
/// the connection; anything else gets 404 or 400. Requests are bounded (8 KiB of headers within 5 s) and at most
/// <see cref="MaxConnections"/> are served at once, so a hostile scraper holds a few sockets and nothing else.
/// </summary>
/// <remarks>Thread-safe: connections are served concurrently; <paramref name="snapshot"/> must be thread-safe.</remarks>
public sealed class MetricsServer(IPEndPoint endpoint, Func<StatsSnapshot> snapshot) : IDisposable
{
    private const int MaxHeaderBytes = 8192;
    private static readonly TimeSpan s_requestTimeout = TimeSpan.FromSeconds(5);

    private readonly TcpListener _listener = new(endpoint);
    private readonly CancellationTokenSource _stop = new();
    private int _connections;

    /// <summary>Connections served at once; more are closed at once.</summary>
    public int MaxConnections { get; init; } = 8;

    /// <summary>Where it listens (the bound port when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Starts listening and accepting.</summary>
    public void Start()
    {
        _listener.Start(16);
        _ = AcceptLoopAsync();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception error) when (error is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            if (Interlocked.Increment(ref _connections) > MaxConnections)
            {
                Interlocked.Decrement(ref _connections);
                socket.Dispose();
                continue;
            }

            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        using (socket)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(s_requestTimeout);
                string? requestLine = await ReadRequestLineAsync(socket, timeout.Token).ConfigureAwait(false);
                (int status, string reason, string type, string body) = requestLine switch
                {
                    null => (400, "Bad Request", "text/plain", "bad request\n"),
                    _ when requestLine.StartsWith("GET /metrics ", StringComparison.Ordinal) || requestLine.StartsWith("GET /metrics?", StringComparison.Ordinal)
                        => (200, "OK", PrometheusText.ContentType, PrometheusText.Render(snapshot())),
                    _ when requestLine.StartsWith("GET ", StringComparison.Ordinal) => (404, "Not Found", "text/plain", "try /metrics\n"),
                    _ => (405, "Method Not Allowed", "text/plain", "GET only\n"),
                };
                byte[] payload = Encoding.UTF8.GetBytes(body);
                string head = $"HTTP/1.1 {status} {reason}\r\nContent-Type: {type}\r\nContent-Length: {payload.Length}\r\nConnection: close\r\n\r\n";
                await socket.SendAsync(Encoding.ASCII.GetBytes(head), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                await socket.SendAsync(payload, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception error) when (error is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // A slow or vanished scraper: its socket is closed and nothing else is affected.
            }
            finally
            {
                Interlocked.Decrement(ref _connections);
            }
        }
    }

    /// <summary>Reads until the end of the headers; returns the request line, or null if the request is malformed or too big.</summary>
    private static async Task<string?> ReadRequestLineAsync(Socket socket, CancellationToken cancellation)
    {
        byte[] buffer = new byte[MaxHeaderBytes];
        int length = 0;
        while (length < buffer.Length)
        {
            int read = await socket.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellation).ConfigureAwait(false);
            if (read == 0)
            {
                return null;
            }

            length += read;
            int end = buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8);
            if (end >= 0)
            {
                int line = buffer.AsSpan(0, end).IndexOf("\r\n"u8);
                return Encoding.ASCII.GetString(buffer, 0, line < 0 ? end : line);
            }
        }

        return null;
    }
}
