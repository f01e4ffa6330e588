using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace FastPath.Control.Systemd;

/// <summary>
/// The sd_notify protocol, spoken directly: one datagram per state change (<c>READY=1</c>, <c>STATUS=…</c>,
/// <c>WATCHDOG=1</c>, <c>STOPPING=1</c>) to the Unix datagram socket systemd names in <c>$NOTIFY_SOCKET</c>
/// (a path, or <c>@name</c> for the abstract namespace). No libsystemd: the protocol is one <c>sendto</c>.
/// </summary>
/// <remarks>
/// Concurrency: <see cref="Send"/> may be called from any thread (a datagram send is atomic). A send never blocks
/// (the socket is non-blocking): a manager that does not read loses a message, the daemon never waits on it.
/// </remarks>
public sealed class SystemdNotifier : IDisposable
{
    // sun_path holds 108 bytes; an abstract name uses all of them (its leading NUL included), a path needs its NUL.
    private const int MaxAddressBytes = 108;

    // WATCHDOG_USEC bounds: systemd accepts anything, but under 20 ms no daemon can promise to ping in time, and above
    // a day it is a misconfiguration (systemd's own limit is far above; nothing is lost by refusing it).
    private const long MinWatchdogMicroseconds = 20_000;
    private const long MaxWatchdogMicroseconds = 86_400_000_000;

    private readonly Socket _socket;
    private readonly UnixDomainSocketEndPoint _endPoint;
    private int _failures;

    private SystemdNotifier(Socket socket, UnixDomainSocketEndPoint endPoint, string address, TimeSpan? watchdog)
    {
        _socket = socket;
        _endPoint = endPoint;
        Address = address;
        WatchdogInterval = watchdog;
    }

    /// <summary>The socket as <c>$NOTIFY_SOCKET</c> named it.</summary>
    public string Address { get; }

    /// <summary>The service's watchdog timeout (<c>$WATCHDOG_USEC</c>, meant for this process), or null when there is none.</summary>
    public TimeSpan? WatchdogInterval { get; }

    /// <summary>Sends that failed (the manager's queue full, or it went away).</summary>
    public int Failures => Volatile.Read(ref _failures);

    /// <summary>
    /// The notifier <paramref name="environment"/> (<c>NOTIFY_SOCKET</c>, <c>WATCHDOG_USEC</c>, <c>WATCHDOG_PID</c>)
    /// asks for, or null when the process was not started by a service manager that listens.
    /// </summary>
    /// <exception cref="InvalidOperationException">A variable is set but malformed (the message names it).</exception>
    public static SystemdNotifier? FromEnvironment(Func<string, string?> environment, int processId)
    {
        string? address = environment("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(address))
        {
            return null;
        }

        bool isAbstract = address[0] == '@';
        if (!isAbstract && address[0] != '/')
        {
            throw new InvalidOperationException($"NOTIFY_SOCKET: '{address}' is neither an absolute path nor an abstract '@name'");
        }

        if (Encoding.UTF8.GetByteCount(address) >= MaxAddressBytes + (isAbstract ? 1 : 0))
        {
            throw new InvalidOperationException($"NOTIFY_SOCKET: longer than a Unix socket address may be ({MaxAddressBytes - 1} bytes)");
        }

        TimeSpan? watchdog = null;
        string? usec = environment("WATCHDOG_USEC");
        string? pid = environment("WATCHDOG_PID");
        bool forUs = string.IsNullOrEmpty(pid) || pid == processId.ToString(CultureInfo.InvariantCulture);
        if (!string.IsNullOrEmpty(usec) && forUs)
        {
            if (!long.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out long micros) || micros < MinWatchdogMicroseconds || micros > MaxWatchdogMicroseconds)
            {
                throw new InvalidOperationException($"WATCHDOG_USEC: '{usec}' is not a number of microseconds from {MinWatchdogMicroseconds} to {MaxWatchdogMicroseconds}");
            }

            watchdog = TimeSpan.FromMicroseconds(micros);
        }

        // .NET takes a leading NUL as the abstract namespace, which is what systemd's '@' stands for.
        var endPoint = new UnixDomainSocketEndPoint(isAbstract ? "\0" + address[1..] : address);
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified) { Blocking = false };
        return new SystemdNotifier(socket, endPoint, address, watchdog);
    }

    /// <summary>Sends one notification (newline-separated assignments); false when it could not be sent.</summary>
    public bool Send(string state)
    {
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(state), SocketFlags.None, _endPoint);
            return true;
        }
        catch (Exception error) when (error is SocketException or ObjectDisposedException)
        {
            Interlocked.Increment(ref _failures);
            return false;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _socket.Dispose();
}
