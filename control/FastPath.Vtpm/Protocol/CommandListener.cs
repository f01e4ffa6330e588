using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using FastPath.Vtpm.Engine;

namespace FastPath.Vtpm.Protocol;

/// <summary>The command channel: TPM command bytes in, response bytes out, framed only by the TPM header's
/// size field. A header whose size is impossible (below 10 or above the maximum command size) gets its TPM
/// error response and the connection is closed, because the byte stream cannot be re-framed after it.
/// Each connection is served by the thread that accepted it, with blocking I/O (threads are reused across
/// connections, since tpm2-tools opens one per command): a command costs one wake-up of that thread, no
/// thread-pool hop and no spinning pool workers (a vTPM has a handful of clients; swtpm serves one).</summary>
/// <remarks>Thread-safe: each connection has one thread and its buffers at a time; <see cref="_lock"/> guards the
/// connection set and the count of threads waiting in accept; execution is serialized by the backend.</remarks>
internal sealed class CommandListener(TpmBackend server) : IDisposable
{
    /// <summary>Connections served at once; one more is closed at once (a runaway client cannot exhaust threads).</summary>
    public const int MaxConnections = 128;

    private readonly Lock _lock = new();
    private readonly HashSet<Socket> _clients = [];
    private int _accepting;
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
        StartThread();
    }

    private void StartThread()
    {
        lock (_lock)
        {
            _accepting++;
        }

        new Thread(AcceptAndServe) { IsBackground = true, Name = "vtpm-command" }.Start();
    }

    /// <summary>Leader/followers: the thread that accept(2) wakes serves that connection itself (one wake-up per
    /// connection, as in swtpm's single loop — tpm2-tools opens one per command); before serving, it starts a new
    /// accepting thread if it was the last one, and after serving it accepts again unless enough threads already
    /// wait in accept.</summary>
    private void AcceptAndServe()
    {
        byte[] command = new byte[TpmConstants.MaxCommandSize];
        byte[] response = new byte[TpmEngine.ResponseBufferSize];
        Socket listener = _listener!;
        while (true)
        {
            Socket client;
            try
            {
                client = listener.Accept();
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                lock (_lock)
                {
                    _accepting--;
                }

                return;
            }

            bool admitted;
            bool lastAccepting;
            lock (_lock)
            {
                _accepting--;
                lastAccepting = _accepting == 0;
                admitted = !_stopping && _clients.Count < MaxConnections;
                if (admitted)
                {
                    _clients.Add(client);
                }
            }

            if (lastAccepting && !_stopping)
            {
                StartThread();
            }

            if (admitted)
            {
                client.NoDelay = true;
                Serve(client, command, response);
            }
            else
            {
                client.Dispose();
            }

            lock (_lock)
            {
                if (_stopping || _accepting >= SpareThreads)
                {
                    return;
                }

                _accepting++;
            }
        }
    }

    /// <summary>Threads kept waiting in accept(2) between connections.</summary>
    private const int SpareThreads = 2;

    private void Serve(Socket client, byte[] command, byte[] response)
    {
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
