using System.Text.Json;
using FastPath.Control.Config;
using FastPath.Control.ControlSocket;
using FastPath.Testing;

namespace FastPath.Control.Tests.ControlSocket;

/// <summary>Per-connection limits: a request that stalls is cut off, and connections beyond the limit are told the daemon is busy.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
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
    public void A_client_trickling_a_request_is_cut_off_by_the_deadline_of_the_whole_request()
    {
        // Each byte arrives well inside the frame timeout; before the fix every chunk restarted the timer.
        using var server = new ControlServer(Pong) { FrameTimeout = TimeSpan.FromMilliseconds(500) };
        server.Start(_endpoint);
        using ControlClient slow = ControlClient.Connect(_endpoint, TimeSpan.FromSeconds(30));
        byte[] request = [0, 0, 0, 100, .. new byte[100]];
        bool cut = false;
        for (int i = 0; i < request.Length && !cut; i++)
        {
            try
            {
                slow.SendRaw(request.AsSpan(i, 1), prefix: false);
                Thread.Sleep(100);
            }
            catch (System.Net.Sockets.SocketException)
            {
                cut = true;
            }
        }

        // 100 bytes at 10 a second take 10 s; the server closed the connection long before the last one.
        Assert.True(cut || slow.TryReceive() is null);
        Assert.Equal(0, server.Connections);
    }

    [Fact]
    public void Idle_connections_give_their_slot_to_a_newcomer_and_only_requests_in_progress_make_it_busy()
    {
        using var server = new ControlServer(Pong) { MaxConnections = 2 };
        server.Start(_endpoint);
        using ControlClient first = ControlClient.Connect(_endpoint, TimeSpan.FromSeconds(30));
        using ControlClient second = ControlClient.Connect(_endpoint, TimeSpan.FromSeconds(30));
        // The server marks a connection idle after its answer has left, so each client's idleness is awaited: which
        // one has idled longest must be first, whatever the load did to the server's threads.
        first.Call("ping").Dispose();
        WaitUntil(() => server.IdleConnections == 2);
        second.Call("ping").Dispose();
        WaitUntil(() => server.IdleConnections == 2);

        // Both idle: a third client is served, and the connection idle the longest (first) is closed for it.
        using ControlClient third = ControlClient.Connect(_endpoint, TimeSpan.FromSeconds(30));
        third.Call("ping").Dispose();
        Assert.Null(first.TryReceive());
        second.Call("ping").Dispose();

        // Both slots inside a request: the next client is told the daemon is busy.
        second.SendRaw([0, 0, 0, 50, (byte)'{'], prefix: false);
        third.SendRaw([0, 0, 0, 50, (byte)'{'], prefix: false);
        Thread.Sleep(200);
        using ControlClient fourth = ControlClient.Connect(_endpoint, TimeSpan.FromSeconds(30));
        using (JsonDocument busy = fourth.Receive())
        {
            ControlProtocolTests.AssertError(busy, ControlProtocol.Busy, "already has 2 control connections");
        }
    }

    [Fact]
    public void A_second_daemon_cannot_take_over_a_live_socket()
    {
        using var server = new ControlServer(Pong);
        server.Start(_endpoint);
        using var other = new ControlServer(Pong);
        IOException error = Assert.Throws<IOException>(() => other.Start(_endpoint));
        Assert.Contains("already listening", error.Message);
    }

    [Fact]
    public void A_control_path_naming_a_regular_file_is_refused_and_the_file_kept()
    {
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, "{ \"precious\": true }");
        Assert.True(ControlEndpoint.TryParse("unix:" + config, false, out ControlEndpoint onFile, out _));
        using var server = new ControlServer(Pong);
        IOException error = Assert.Throws<IOException>(() => server.Start(onFile));
        Assert.Contains("is not a socket", error.Message);
        Assert.Equal("{ \"precious\": true }", File.ReadAllText(config));

        Assert.True(ControlEndpoint.TryParse("unix:" + _dir.File("no-such-dir/c.sock"), false, out ControlEndpoint inMissing, out _));
        using var other = new ControlServer(Pong);
        Assert.Contains("does not exist", Assert.Throws<IOException>(() => other.Start(inMissing)).Message);
        Assert.False(Directory.Exists(_dir.File("no-such-dir")));
    }

    [Fact]
    public void The_control_socket_is_created_0600()
    {
        using var server = new ControlServer(Pong);
        server.Start(_endpoint);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_dir.File("c.sock")));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void An_unprivileged_user_cannot_reach_the_control_socket_its_owner_can()
    {
        // The folder is world-searchable, so only the socket's own mode stands in the way (vtpm status/failover,
        // map changes and captures all go through this socket).
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0b111_101_101);
        using var server = new ControlServer(Pong);
        server.Start(_endpoint);
        const string Client = """
            import json, socket, struct, sys
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(10)
            try:
                s.connect(sys.argv[1])
            except PermissionError:
                print("denied"); sys.exit(0)
            body = json.dumps({"v": 1, "id": 1, "verb": "ping", "args": {}}).encode()
            s.sendall(struct.pack(">I", len(body)) + body)
            head = s.recv(4)
            print("answered" if len(head) == 4 else "closed")
            """;
        string path = _dir.File("c.sock");
        ProcessResult stranger = ProcessRunner.Run("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/python3", "-c", Client, path], TimeSpan.FromSeconds(60)).EnsureSuccess();
        Assert.Equal("denied", stranger.StandardOutput.Trim());
        ProcessResult owner = ProcessRunner.Run("/usr/bin/python3", ["-c", Client, path], TimeSpan.FromSeconds(60)).EnsureSuccess();
        Assert.Equal("answered", owner.StandardOutput.Trim());
    }

    private static ValueTask<ControlReply> Pong(string verb, JsonElement args, CancellationToken cancellation) =>
        ValueTask.FromResult(verb == "ping" ? ControlReply.Ok() : ControlReply.Error(ControlProtocol.UnknownVerb, verb));

    private static void WaitUntil(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the server did not get there within 30 s");
            Thread.Sleep(5);
        }
    }
}
