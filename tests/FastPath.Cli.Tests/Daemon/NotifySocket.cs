using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;

namespace FastPath.Cli.Tests.Daemon;

/// <summary>
/// The service manager's end of sd_notify, owned by the test: a Unix datagram socket (a path, or an abstract
/// <c>@name</c>) that collects every notification the daemon sends, in order.
/// </summary>
internal sealed class NotifySocket : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly BlockingCollection<string> _messages = [];
    private readonly Thread _reader;
    private volatile bool _closed;

    /// <param name="address">A socket path, or <c>@name</c> for the abstract namespace (as systemd writes it).</param>
    public NotifySocket(string address)
    {
        Address = address;
        _socket.Bind(new UnixDomainSocketEndPoint(address.StartsWith('@') ? "\0" + address[1..] : address));
        _socket.ReceiveTimeout = 200;
        _reader = new Thread(Read) { IsBackground = true, Name = "notify-socket" };
        _reader.Start();
    }

    /// <summary>The value for <c>NOTIFY_SOCKET</c>.</summary>
    public string Address { get; }

    /// <summary>Takes messages until one matches; throws with everything seen when none does within <paramref name="timeout"/>.</summary>
    public string WaitFor(Func<string, bool> match, TimeSpan timeout, List<string>? seen = null)
    {
        seen ??= [];
        DateTime end = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < end)
        {
            if (_messages.TryTake(out string? message, TimeSpan.FromMilliseconds(100)))
            {
                seen.Add(message);
                if (match(message))
                {
                    return message;
                }
            }
        }

        throw new TimeoutException($"no matching notification within {timeout}; got: [{string.Join(" | ", seen)}]");
    }

    /// <summary>Everything received and not yet taken.</summary>
    public List<string> Drain()
    {
        var all = new List<string>();
        while (_messages.TryTake(out string? message))
        {
            all.Add(message);
        }

        return all;
    }

    public void Dispose()
    {
        _closed = true;
        _reader.Join();
        _socket.Dispose();
        _messages.Dispose();
    }

    private void Read()
    {
        var buffer = new byte[4096];
        while (!_closed)
        {
            try
            {
                int n = _socket.Receive(buffer);
                _messages.Add(Encoding.UTF8.GetString(buffer, 0, n));
            }
            catch (SocketException error) when (error.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                // Poll _closed again.
            }
        }
    }
}
