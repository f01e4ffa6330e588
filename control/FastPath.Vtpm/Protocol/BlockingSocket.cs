using System.Net.Sockets;

namespace FastPath.Vtpm.Protocol;

/// <summary>The whole-buffer loops over a blocking socket that the command channel, the instance links and the
/// control-channel client share: send(2) and recv(2) may move fewer bytes than asked.</summary>
/// <remarks>Stateless; a socket is used by one thread at a time.</remarks>
internal static class BlockingSocket
{
    /// <summary>A connected Unix stream socket whose every send and receive gives up after <paramref name="timeout"/>
    /// (SO_SNDTIMEO/SO_RCVTIMEO: no timer per call).</summary>
    public static Socket ConnectUnix(string path, TimeSpan timeout)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            int milliseconds = (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue);
            socket.SendTimeout = milliseconds;
            socket.ReceiveTimeout = milliseconds;
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            data = data[socket.Send(data)..];
        }
    }

    /// <summary>Reads until <paramref name="destination"/> is full or the peer closed its side; returns the bytes read.</summary>
    public static int Fill(Socket socket, Span<byte> destination)
    {
        int total = 0;
        while (total < destination.Length)
        {
            int got = socket.Receive(destination[total..]);
            if (got == 0)
            {
                break;
            }

            total += got;
        }

        return total;
    }

    /// <summary>Fills <paramref name="destination"/>; a peer that closes first is an <see cref="EndOfStreamException"/>
    /// naming <paramref name="peer"/>.</summary>
    public static void ReceiveExactly(Socket socket, Span<byte> destination, string peer)
    {
        if (Fill(socket, destination) != destination.Length)
        {
            throw new EndOfStreamException($"{peer} closed the connection");
        }
    }
}
