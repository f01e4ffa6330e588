using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using FastPath.Vtpm.Engine;

namespace FastPath.Vtpm.Protocol;

/// <summary>The command channel: TPM command bytes in, response bytes out, framed only by the TPM header's
/// size field. A header whose size is impossible (below 10 or above the maximum command size) gets its TPM
/// error response and the connection is closed, because the byte stream cannot be re-framed after it.
/// Each connection has its own thread with blocking I/O: a command costs one wake-up of that thread, no
/// thread-pool hop and no spinning pool workers (a vTPM has a handful of clients; swtpm serves one).</summary>
/// <remarks>Thread-safe: each connection has its own thread and buffers; execution is serialized by the backend.</remarks>
internal sealed class CommandListener(TpmBackend server) : IDisposable
{
    /// <summary>Connections served at once; one more is closed at once (a runaway client cannot exhaust threads).</summary>
    public const int MaxConnections = 128;

    private readonly Lock _lock = new();
    private readonly HashSet<Socket> _clients = [];
    private Socket? _listener;
    private volatile bool _stopping;

    public void Listen(IPEndPoint endPoint)
    {
        var listener = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(endPoint);
            listener.Listen(MaxConnections);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        _listener = listener;
        new Thread(() => AcceptLoop(listener)) { IsBackground = true, Name = "vtpm-command-accept" }.Start();
    }

    private void AcceptLoop(Socket listener)
    {
        while (!_stopping)
        {
            Socket client;
            try
            {
                client = listener.Accept();
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                return;
            }

            lock (_lock)
            {
                if (_stopping || _clients.Count >= MaxConnections)
                {
                    client.Dispose();
                    continue;
                }

                _clients.Add(client);
            }

            client.NoDelay = true;
            new Thread(() => Serve(client)) { IsBackground = true, Name = "vtpm-command" }.Start();
        }
    }

    private void Serve(Socket client)
    {
        byte[] command = new byte[TpmConstants.MaxCommandSize];
        byte[] response = new byte[TpmEngine.ResponseBufferSize];
        try
        {
            bool open = true;
            while (open)
            {
                int got = BlockingSocket.Fill(client, command.AsSpan(0, TpmConstants.HeaderSize));
                if (got == 0)
                {
                    break;
                }

                int length = got;
                open = got == TpmConstants.HeaderSize;
                if (open)
                {
                    uint size = BinaryPrimitives.ReadUInt32BigEndian(command.AsSpan(2));
                    if (size < TpmConstants.HeaderSize || size > TpmConstants.MaxCommandSize)
                    {
                        // Execute the header alone (the engine answers the size error), then close.
                        open = false;
                    }
                    else
                    {
                        int body = BlockingSocket.Fill(client, command.AsSpan(TpmConstants.HeaderSize, (int)size - TpmConstants.HeaderSize));
                        length += body;

                        // The size field promised more than the client sent before closing its side.
                        open = length == size;
                    }
                }

                ValueTask<int> executed = server.ExecuteAsync(command, length, response);
                int responseLength = executed.IsCompletedSuccessfully ? executed.Result : executed.AsTask().GetAwaiter().GetResult();
                BlockingSocket.SendAll(client, response.AsSpan(0, responseLength));
            }

            client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // The client went away; nothing is owed to it.
        }
        finally
        {
            lock (_lock)
            {
                _clients.Remove(client);
            }

            client.Dispose();
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _listener?.Dispose();
        lock (_lock)
        {
            foreach (Socket client in _clients)
            {
                client.Dispose();
            }

            _clients.Clear();
        }
    }
}
