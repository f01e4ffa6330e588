using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Pipelines.Sockets.Unofficial;

namespace FastPath.Vtpm.Protocol;

/// <summary>
/// An accept loop that hands each connection to <see cref="OnClientConnectedAsync"/> as a pipe pair, and disposes
/// the connection when it returns. Unlike Pipelines.Sockets.Unofficial's SocketServer it listens on a socket made
/// by <see cref="UnixSocketPath.Listen(EndPoint, int)"/>, so a Unix socket is 0600 from the moment it exists.
/// </summary>
/// <remarks>Thread-safe: connections are served concurrently; <see cref="Dispose"/> stops accepting.</remarks>
public abstract class PipeListener : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Socket? _listener;
    private PipeOptions? _sendOptions;
    private PipeOptions? _receiveOptions;

    /// <summary>Where it listens, once <see cref="Listen"/> returned.</summary>
    public EndPoint? LocalEndPoint => _listener?.LocalEndPoint;

    /// <summary>Listens on <paramref name="endPoint"/> (Unix: 0600, see <see cref="UnixSocketPath"/>) and starts accepting.</summary>
    public void Listen(EndPoint endPoint, int backlog = 64, PipeOptions? sendOptions = null, PipeOptions? receiveOptions = null)
    {
        _sendOptions = sendOptions;
        _receiveOptions = receiveOptions;
        _listener = UnixSocketPath.Listen(endPoint, backlog);
        _ = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Serves one connection; it is closed when the task completes.</summary>
    protected abstract Task OnClientConnectedAsync(IDuplexPipe transport, Socket client);

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Stops accepting; connections being served end when their handlers see their pipes complete.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing && !_stop.IsCancellationRequested)
        {
            _stop.Cancel();
            _listener?.Dispose();
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener!.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                // Out of descriptors or a connection reset while queued: try again shortly, without spinning.
                await Task.Delay(10).ConfigureAwait(false);
                continue;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        SocketConnection connection = SocketConnection.Create(client, _sendOptions, _receiveOptions);
        try
        {
            await OnClientConnectedAsync(connection, client).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException or OperationCanceledException or ConnectionResetException or ConnectionAbortedException)
        {
            // The client went away.
        }
        finally
        {
            connection.Dispose();
        }
    }
}
