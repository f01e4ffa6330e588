using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FastPath.Vtpm.Engine;

namespace FastPath.Vtpm.Protocol;

/// <summary>The command channel: TPM command bytes in, response bytes out, framed only by the TPM header's
/// size field. A header whose size is impossible (below 10 or above the maximum command size) gets its TPM
/// error response and the connection is closed, because the byte stream cannot be re-framed after it.
/// Each connection is served by the thread that accepted it, with blocking I/O (threads are reused across
/// connections, since tpm2-tools opens one per command): a command costs one wake-up of that thread, no
/// thread-pool hop and no spinning pool workers (a vTPM has a handful of clients; swtpm serves one).
/// Idle or hostile clients cannot lock others out: a connection that sends nothing (or takes no response) for
/// <see cref="IdleTimeout"/> is closed; one peer (a Unix socket's user id, a TCP client's address) holds at most
/// <see cref="MaxPerPeer"/> connections, and a new one past that closes the peer's longest-idle connection;
/// and the last of the <see cref="MaxConnections"/> slots is kept for a newcomer: once only it is free, a new
/// connection closes the longest-idle connection of anyone.</summary>
/// <remarks>Thread-safe: each connection has one thread and its buffers at a time; <see cref="_lock"/> guards the
/// connection set and the count of threads waiting in accept; execution is serialized by the backend.</remarks>
internal sealed class CommandListener(TpmBackend server) : IDisposable
{
    /// <summary>Connections served at once; past that a newcomer closes the longest-idle one, or is closed.</summary>
    public const int MaxConnections = 128;

    /// <summary>Connections one peer may hold at once.</summary>
    public const int MaxPerPeer = 64;

    /// <summary>SOL_SOCKET / SO_PEERCRED (struct ucred: pid, uid, gid).</summary>
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    private readonly Lock _lock = new();
    private readonly Dictionary<Socket, Client> _clients = [];
    private int _accepting;
    private Socket? _listener;
    private bool _unix;
    private volatile bool _stopping;

    /// <summary>How long a connection may send nothing (between or inside commands) or leave a response untaken.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public void Listen(EndPoint endPoint)
    {
        _unix = endPoint is UnixDomainSocketEndPoint;
        _listener = UnixSocketPath.Listen(endPoint, MaxConnections);
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
        byte[] response = new byte[VtpmEngine.ResponseBufferSize];
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

            var entry = new Client(client, PeerOf(client));
            Socket? evicted;
            bool admitted;
            bool lastAccepting;
            lock (_lock)
            {
                _accepting--;
                lastAccepting = _accepting == 0;
                admitted = Admit(entry, out evicted);
            }

            if (lastAccepting && !_stopping)
            {
                StartThread();
            }

            // Shutdown wakes the evicted connection's thread out of its blocking receive; it then cleans up.
            Close(evicted);
            if (admitted)
            {
                int milliseconds = (int)Math.Clamp(IdleTimeout.TotalMilliseconds, 1, int.MaxValue);
                client.ReceiveTimeout = milliseconds;
                client.SendTimeout = milliseconds;
                if (!_unix)
                {
                    client.NoDelay = true;
                }

                Serve(entry, command, response);
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

    /// <summary>Under <see cref="_lock"/>: whether <paramref name="entry"/> gets a slot, and which idle connection
    /// (if any) it takes the slot from.</summary>
    private bool Admit(Client entry, out Socket? evicted)
    {
        evicted = null;
        if (_stopping)
        {
            return false;
        }

        int fromPeer = 0;
        foreach (Client other in _clients.Values)
        {
            fromPeer += other.Peer == entry.Peer ? 1 : 0;
        }

        if (fromPeer >= MaxPerPeer)
        {
            evicted = LongestIdle(entry.Peer);
            if (evicted is null)
            {
                return false;
            }
        }
        else if (_clients.Count >= MaxConnections - 1)
        {
            // The last slot is the newcomer's: someone idle makes room, and only a full set of busy ones refuses it.
            evicted = LongestIdle(null);
            if (evicted is null && _clients.Count >= MaxConnections)
            {
                return false;
            }
        }

        if (evicted is not null)
        {
            _clients.Remove(evicted);
        }

        _clients.Add(entry.Socket, entry);
        return true;
    }

    private Socket? LongestIdle(string? peer)
    {
        Client? oldest = null;
        foreach (Client candidate in _clients.Values)
        {
            if (!candidate.Busy && (peer is null || candidate.Peer == peer) && (oldest is null || candidate.IdleSince < oldest.IdleSince))
            {
                oldest = candidate;
            }
        }

        return oldest?.Socket;
    }

    private static void Close(Socket? socket)
    {
        if (socket is null)
        {
            return;
        }

        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }
    }

    /// <summary>Who is connecting: the user id of a Unix socket's peer (SO_PEERCRED), or a TCP client's address.</summary>
    private string PeerOf(Socket client)
    {
        try
        {
            if (_unix)
            {
                Span<byte> credentials = stackalloc byte[12];
                int length = client.GetRawSocketOption(SolSocket, SoPeerCred, credentials);
                return length >= 8 ? "uid " + BitConverter.ToUInt32(credentials[4..]).ToString(System.Globalization.CultureInfo.InvariantCulture) : "uid ?";
            }

            return (client.RemoteEndPoint as IPEndPoint)?.Address.ToString() ?? "?";
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            return "?";
        }
    }

    private void Serve(Client entry, byte[] command, byte[] response)
    {
        Socket client = entry.Socket;
        try
        {
            bool open = true;
            while (open)
            {
                lock (_lock)
                {
                    entry.Busy = false;
                    entry.IdleSince = Stopwatch.GetTimestamp();
                }

                int got = BlockingSocket.Fill(client, command.AsSpan(0, TpmConstants.HeaderSize));
                if (got == 0)
                {
                    break;
                }

                lock (_lock)
                {
                    entry.Busy = true;
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

    /// <summary>One served connection; <see cref="Busy"/> and <see cref="IdleSince"/> change under <see cref="_lock"/>.</summary>
    private sealed class Client(Socket socket, string peer)
    {
        public Socket Socket { get; } = socket;

        public string Peer { get; } = peer;

        public bool Busy { get; set; }

        public long IdleSince { get; set; } = Stopwatch.GetTimestamp();
    }

    public void Dispose()
    {
        _stopping = true;
        _listener?.Dispose();
        lock (_lock)
        {

            foreach (Socket client in _clients.Keys)
            {
                client.Dispose();
            }

            _clients.Clear();
        }
    }
}
