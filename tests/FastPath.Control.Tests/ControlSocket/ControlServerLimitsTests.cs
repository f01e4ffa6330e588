using System.Text.Json;
using FastPath.Control.Config;
using FastPath.Control.ControlSocket;
using FastPath.Testing;

namespace FastPath.Control.Tests.ControlSocket;

/// <summary>Per-connection limits: a request that stalls is cut off, and connections beyond the limit are told the daemon is busy.</summary>
public sealed class ControlServerLimitsTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ControlEndpoint _endpoint;

    public ControlServerLimitsTests()
    {
        Assert.True(ControlEndpoint.TryParse("unix:" + _dir.File("c.sock"), false, out _endpoint, out _));
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_request_that_stalls_past_the_frame_timeout_is_closed()
    {
        using var server = new ControlServer(Pong) { FrameTimeout = TimeSpan.FromMilliseconds(300) };
        server.Start(_endpoint);
        using ControlClient stalled = ControlClient.Connect(_endpoint, TimeSpan.FromSeconds(30));
        stalled.SendRaw([0, 0, 0, 50, (byte)'{'], prefix: false);

        // The server closes without answering: the half-sent request can never complete.
        Assert.Null(stalled.TryReceive());
        using ControlClient fresh = ControlClient.Connect(_endpoint, TimeSpan.FromSeconds(30));
        using JsonDocument pong = fresh.Call("ping");
    }

    [Fact]
    public void Connections_beyond_the_limit_are_answered_busy()
    {
        using var server = new ControlServer(Pong) { MaxConnections = 2 };
        server.Start(_endpoint);
        using ControlClient first = ControlClient.Connect(_endpoint, TimeSpan.FromSeconds(30));
        using ControlClient second = ControlClient.Connect(_endpoint, TimeSpan.FromSeconds(30));
        first.Call("ping").Dispose();
        second.Call("ping").Dispose();

        using ControlClient third = ControlClient.Connect(_endpoint, TimeSpan.FromSeconds(30));
        using (JsonDocument busy = third.Receive())
        {
            ControlProtocolTests.AssertError(busy, ControlProtocol.Busy, "already has 2 control connections");
        }

        first.Dispose();
        second.Call("ping").Dispose();
    }

    [Fact]
    public void A_second_daemon_cannot_take_over_a_live_socket()
    {
        using var server = new ControlServer(Pong);
        server.Start(_endpoint);
        using var other = new ControlServer(Pong);
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => other.Start(_endpoint));
        Assert.Contains("another daemon is already listening", error.Message);
    }

    private static ValueTask<ControlReply> Pong(string verb, JsonElement args, CancellationToken cancellation) =>
        ValueTask.FromResult(verb == "ping" ? ControlReply.Ok() : ControlReply.Error(ControlProtocol.UnknownVerb, verb));
}
