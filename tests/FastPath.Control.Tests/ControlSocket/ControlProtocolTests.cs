using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using FastPath.Control.ControlSocket;

namespace FastPath.Control.Tests.ControlSocket;

/// <summary>Bad control input gets a clear error; the connection stays usable where it can be re-framed; the daemon keeps serving.</summary>
public sealed class ControlProtocolTests : IDisposable
{
    private readonly DaemonFixture _daemon = new();

    public void Dispose() => _daemon.Dispose();

    [Theory]
    [InlineData("this is not json", ControlProtocol.BadRequest, "not JSON")]
    [InlineData("[1,2,3]", ControlProtocol.BadRequest, "a request is a JSON object")]
    [InlineData("""{"v":1,"verb":"ping"}""", ControlProtocol.BadRequest, "missing \"id\"")]
    [InlineData("""{"id":1,"verb":"ping"}""", ControlProtocol.BadRequest, "missing \"v\"")]
    [InlineData("""{"v":2,"id":1,"verb":"ping"}""", ControlProtocol.UnsupportedVersion, "protocol version 2 is not supported")]
    [InlineData("""{"v":1,"id":1,"verb":"launch.missiles"}""", ControlProtocol.UnknownVerb, "unknown verb 'launch.missiles'")]
    [InlineData("""{"v":1,"id":1,"verb":"map.add","args":[1]}""", ControlProtocol.BadRequest, "\"args\" must be an object")]
    [InlineData("""{"v":1,"id":1,"verb":"map.add","args":{"user":"198.18.1.9"}}""", ControlProtocol.BadRequest, "args.secure: missing")]
    [InlineData("""{"v":1,"id":1,"verb":"map.add","args":{"tenant":5000,"user":"198.18.1.9","secure":"198.19.1.9"}}""", ControlProtocol.BadRequest, "args.tenant: tenant 5000 out of range")]
    [InlineData("""{"v":1,"id":1,"verb":"map.add","args":{"user":"198.18.1.9","secure":"2001:db8::9"}}""", ControlProtocol.BadRequest, "family mismatch")]
    [InlineData("""{"v":1,"id":1,"verb":"map.import","args":{"path":"relative.json"}}""", ControlProtocol.BadRequest, "must be absolute")]
    [InlineData("""{"v":"1","id":1,"verb":"ping"}""", ControlProtocol.BadRequest, "missing \"v\"")]
    [InlineData("""{"v":1,"id":"x","verb":"ping"}""", ControlProtocol.BadRequest, "missing \"id\"")]
    [InlineData("""{"v":1,"id":1,"verb":"map.add","args":{"tenant":"x","user":"198.18.1.9","secure":"198.19.1.9"}}""", ControlProtocol.BadRequest, "args.tenant: expected an integer")]
    [InlineData("""{"v":1,"id":1,"verb":"map.list","args":{"limit":"all"}}""", ControlProtocol.BadRequest, "args.limit: expected a non-negative integer")]
    [InlineData("""{"v":1,"id":1,"id":2,"verb":"ping"}""", ControlProtocol.BadRequest, "property 'id' is given twice")]
    [InlineData("""{"v":1,"id":1,"verb":"map.add","args":{"user":"198.18.1.9","secure":"198.19.1.9","user":"198.18.1.10"}}""", ControlProtocol.BadRequest, "property 'user' is given twice")]
    [InlineData("""{"v":1,"id":1,"verb":"map.add","args":{"user":"010.001.000.005","secure":"198.19.1.9"}}""", ControlProtocol.BadRequest, "args.user: not an IP address in canonical form")]
    [InlineData("""{"v":1,"id":1,"verb":"map.add","args":{"user":"198.18.1.9","secure":"0x0a.0.0.1"}}""", ControlProtocol.BadRequest, "args.secure: not an IP address in canonical form")]
    [InlineData("""{"v":1,"id":1,"verb":"map.import","args":{"path":"/dev/zero"}}""", ControlProtocol.Refused, "/dev/zero: not a regular file (a character device)")]
    public void A_malformed_request_gets_an_error_and_the_connection_stays_usable(string body, string code, string message)
    {
        using ControlClient client = _daemon.Connect();
        client.SendRaw(Encoding.UTF8.GetBytes(body), prefix: true);
        using JsonDocument response = client.Receive();
        AssertError(response, code, message);

        using JsonDocument pong = client.Call("ping");
        Assert.True(pong.RootElement.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public void Invalid_utf8_in_a_property_name_is_a_bad_request_with_its_position()
    {
        using ControlClient client = _daemon.Connect();
        client.SendRaw([.. "{\"v\":1,\"i"u8, 0xC3, 0x28, .. "\":1}"u8], prefix: true);
        using (JsonDocument response = client.Receive())
        {
            AssertError(response, ControlProtocol.BadRequest, "line 1, column 10: invalid UTF-8");
        }

        using JsonDocument pong = client.Call("ping");
        Assert.True(pong.RootElement.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public void Importing_a_fifo_is_refused_at_once_and_holds_no_slot()
    {
        using var dir = new FastPath.Testing.TempDirectory();
        string fifo = dir.File("maps.fifo");
        FastPath.Testing.ProcessRunner.Run("mkfifo", fifo).EnsureSuccess();
        using ControlClient client = _daemon.Connect();
        client.SendRaw(Encoding.UTF8.GetBytes("""{"v":1,"id":1,"verb":"map.import","args":{"path":""" + JsonSerializer.Serialize(fifo) + "}}"), prefix: true);
        using (JsonDocument response = client.Receive())
        {
            AssertError(response, ControlProtocol.Refused, "not a regular file (a FIFO)");
        }

        using JsonDocument pong = client.Call("ping");
        Assert.True(pong.RootElement.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public void An_oversized_request_is_refused_at_once_its_body_discarded_and_the_connection_reused()
    {
        using ControlClient client = _daemon.Connect();
        byte[] big = new byte[ControlProtocol.MaxRequestBytes + 1];
        big.AsSpan().Fill((byte)'x');
        client.SendRaw(big, prefix: true);
        using (JsonDocument response = client.Receive())
        {
            AssertError(response, ControlProtocol.TooLarge, "exceeds the 65536-byte limit");
        }

        using JsonDocument pong = client.Call("ping");
        Assert.True(pong.RootElement.GetProperty("ok").GetBoolean());
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(uint.MaxValue)]
    [InlineData((uint)ControlProtocol.MaxSkippableBytes + 1)]
    public void A_length_that_cannot_be_framed_gets_an_error_then_the_connection_closes(uint length)
    {
        using ControlClient client = _daemon.Connect();
        byte[] prefix = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, length);
        client.SendRaw(prefix, prefix: false);
        using (JsonDocument response = client.Receive())
        {
            AssertError(response, ControlProtocol.TooLarge, "cannot be framed");
        }

        Assert.Null(client.TryReceive());
        _daemon.AssertServing();
    }

    [Fact]
    public void A_truncated_length_prefix_gets_an_error_then_the_connection_closes()
    {
        using ControlClient client = _daemon.Connect();
        client.SendRaw([0, 0], prefix: false);
        client.ShutdownSend();
        using (JsonDocument response = client.Receive())
        {
            AssertError(response, ControlProtocol.BadRequest, "inside a length prefix (2 of 4 bytes)");
        }

        Assert.Null(client.TryReceive());
        _daemon.AssertServing();
    }

    [Fact]
    public void A_truncated_body_gets_an_error_then_the_connection_closes()
    {
        using ControlClient client = _daemon.Connect();
        client.SendRaw([0, 0, 0, 100, (byte)'{', (byte)'"'], prefix: false);
        client.ShutdownSend();
        using (JsonDocument response = client.Receive())
        {
            AssertError(response, ControlProtocol.BadRequest, "inside a request (2 of 100 bytes)");
        }

        _daemon.AssertServing();
    }

    [Fact]
    public void Duplicate_and_missing_mappings_are_refused_with_the_reason()
    {
        using ControlClient client = _daemon.Connect();
        ControlException user = Assert.Throws<ControlException>(() => client.Call("map.add", j => Key(j, "198.18.1.5", "198.19.9.9")));
        Assert.Equal(ControlProtocol.Refused, user.Code);
        Assert.Equal("conflict: (tenant 0, 198.18.1.5) is already mapped to 198.19.1.5", user.Message);

        ControlException secure = Assert.Throws<ControlException>(() => client.Call("map.add", j => Key(j, "198.18.1.6", "198.19.1.5")));
        Assert.Equal("conflict: secure address 198.19.1.5 is already mapped from (tenant 0, 198.18.1.5)", secure.Message);

        ControlException missing = Assert.Throws<ControlException>(() => client.Call("map.del", j => j.WriteString("user", "198.18.7.7")));
        Assert.Equal(ControlProtocol.NotFound, missing.Code);

        using JsonDocument added = client.Call("map.add", j => Key(j, "198.18.1.6", "198.19.1.6"));
        Assert.Equal(2, added.RootElement.GetProperty("result").GetProperty("mappings").GetInt32());
        using JsonDocument list = client.Call("map.list");
        Assert.Equal(2, list.RootElement.GetProperty("result").GetProperty("total").GetInt32());
    }

    [Fact]
    public void An_import_with_a_conflict_is_refused_and_the_table_is_unchanged()
    {
        string bad = Path.Combine(_daemon.Folder, "bad.json");
        File.WriteAllText(bad, """
            { "mappings": [ { "tenant": 0, "user": "198.18.2.1", "secure": "198.19.2.1" },
                            { "tenant": 0, "user": "198.18.2.2", "secure": "198.19.2.1" } ] }
            """);
        using ControlClient client = _daemon.Connect();
        ControlException error = Assert.Throws<ControlException>(() => client.Call("map.import", j => j.WriteString("path", bad)));
        Assert.Equal(ControlProtocol.Refused, error.Code);
        Assert.Contains("bad.json: mappings[1]: duplicate secure address 198.19.2.1: also mappings[0]", error.Message);

        using JsonDocument list = client.Call("map.list");
        JsonElement only = Assert.Single(list.RootElement.GetProperty("result").GetProperty("mappings").EnumerateArray());
        Assert.Equal("198.18.1.5", only.GetProperty("user").GetString());
    }

    [Fact]
    public void An_import_on_an_idle_daemon_swaps_the_whole_table()
    {
        // The workers see no traffic: the swap must still complete (idle workers keep passing quiescent points).
        string next = Path.Combine(_daemon.Folder, "next.json");
        File.WriteAllText(next, """
            { "mappings": [ { "tenant": 0, "user": "198.18.2.1", "secure": "198.19.2.1" },
                            { "tenant": 5, "user": "2001:db8:1::7", "secure": "2001:db8:2::7" } ] }
            """);
        using ControlClient client = _daemon.Connect();
        using JsonDocument imported = client.Call("map.import", j => j.WriteString("path", next));
        Assert.Equal(2, imported.RootElement.GetProperty("result").GetProperty("mappings").GetInt32());

        using JsonDocument list = client.Call("map.list");
        string[] users = [.. list.RootElement.GetProperty("result").GetProperty("mappings").EnumerateArray().Select(e => e.GetProperty("user").GetString()!).Order()];
        Assert.Equal(["198.18.2.1", "2001:db8:1::7"], users);

        // SIGHUP's verb puts the configured file back.
        using JsonDocument reloaded = client.Call("maps.reload");
        Assert.Equal(1, reloaded.RootElement.GetProperty("result").GetProperty("mappings").GetInt32());
    }

    [Fact]
    public void A_stalled_client_does_not_block_other_clients()
    {
        using ControlClient stalled = _daemon.Connect();
        stalled.SendRaw([0, 0, 0, 50, (byte)'{'], prefix: false);
        for (int i = 0; i < 3; i++)
        {
            _daemon.AssertServing();
        }

        using JsonDocument stats = _daemon.Connect().Call("stats");
        Assert.Equal(1, stats.RootElement.GetProperty("result").GetProperty("table").GetProperty("mappings").GetInt32());
    }

    internal static void AssertError(JsonDocument response, string code, string message)
    {
        JsonElement root = response.RootElement;
        Assert.Equal(ControlProtocol.Version, root.GetProperty("v").GetInt32());
        Assert.False(root.GetProperty("ok").GetBoolean());
        Assert.Equal(code, root.GetProperty("error").GetProperty("code").GetString());
        Assert.Contains(message, root.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    private static void Key(Utf8JsonWriter json, string user, string secure)
    {
        json.WriteNumber("tenant", 0);
        json.WriteString("user", user);
        json.WriteString("secure", secure);
    }
}
