using System.Net.Sockets;
using System.Text;
using FastPath.Control.Systemd;
using FastPath.Testing;

namespace FastPath.Control.Tests.Systemd;

/// <summary>What the daemon reads from a service manager's environment, and one datagram per notification on a real socket.</summary>
public sealed class SystemdNotifierTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Without_notify_socket_there_is_no_notifier() =>
        Assert.Null(SystemdNotifier.FromEnvironment(_ => null, 42));

    [Fact]
    public void The_watchdog_is_armed_only_for_this_process()
    {
        var env = new Dictionary<string, string> { ["NOTIFY_SOCKET"] = "/run/systemd/notify", ["WATCHDOG_USEC"] = "3000000", ["WATCHDOG_PID"] = "42" };
        using SystemdNotifier? ours = SystemdNotifier.FromEnvironment(name => env.GetValueOrDefault(name), 42);
        using SystemdNotifier? other = SystemdNotifier.FromEnvironment(name => env.GetValueOrDefault(name), 43);

        Assert.Equal(TimeSpan.FromSeconds(3), ours!.WatchdogInterval);
        Assert.Null(other!.WatchdogInterval);
    }

    [Theory]
    [InlineData("relative/notify", null, "NOTIFY_SOCKET: 'relative/notify' is neither an absolute path nor an abstract '@name'")]
    [InlineData("/run/systemd/notify", "soon", "WATCHDOG_USEC: 'soon' is not a number of microseconds from 20000 to 86400000000")]
    [InlineData("/run/systemd/notify", "5", "WATCHDOG_USEC: '5' is not a number of microseconds from 20000 to 86400000000")]
    public void A_malformed_environment_is_refused_with_the_variable_named(string socket, string? watchdog, string message)
    {
        var env = new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = socket, ["WATCHDOG_USEC"] = watchdog };
        Assert.Equal(message, Assert.Throws<InvalidOperationException>(() => SystemdNotifier.FromEnvironment(name => env.GetValueOrDefault(name), 1)).Message);
    }

    [Fact]
    public void A_path_longer_than_a_socket_address_is_refused() =>
        Assert.Contains("longer than a Unix socket address", Assert.Throws<InvalidOperationException>(
            () => SystemdNotifier.FromEnvironment(name => name == "NOTIFY_SOCKET" ? "/" + new string('x', 120) : null, 1)).Message, StringComparison.Ordinal);

    [Fact]
    public void Each_notification_is_one_datagram_and_a_missing_listener_is_counted_not_thrown()
    {
        string path = _dir.File("notify.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.ReceiveTimeout = 10_000;
        using SystemdNotifier notifier = SystemdNotifier.FromEnvironment(name => name == "NOTIFY_SOCKET" ? path : null, 1)!;

        Assert.True(notifier.Send("READY=1\nSTATUS=up"));
        Assert.True(notifier.Send("WATCHDOG=1"));
        var buffer = new byte[256];
        Assert.Equal("READY=1\nSTATUS=up", Encoding.UTF8.GetString(buffer, 0, listener.Receive(buffer)));
        Assert.Equal("WATCHDOG=1", Encoding.UTF8.GetString(buffer, 0, listener.Receive(buffer)));

        listener.Close();
        File.Delete(path);
        Assert.False(notifier.Send("WATCHDOG=1"));
        Assert.Equal(1, notifier.Failures);
    }
}
