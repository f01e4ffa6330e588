using System.Text;
using System.Text.Json;
using FastPath.Control.Config;
using FastPath.Control.ControlSocket;
using FastPath.Testing;

namespace FastPath.Control.Tests.ControlSocket;

/// <summary>A real daemon in this process (sink ports, no traffic) listening on a Unix socket in a temp folder.</summary>
internal sealed class DaemonFixture : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly Daemon _daemon;

    public DaemonFixture()
    {
        MapsPath = _dir.File("maps.json");
        File.WriteAllText(MapsPath, """{ "mappings": [ { "tenant": 0, "user": "198.18.1.5", "secure": "198.19.1.5" } ] }""");
        string json = $$"""
            {
              "maps": "maps.json", "control": "unix:{{_dir.File("control.sock")}}",
              "ports": { "a": { "type": "sink" }, "b": { "type": "sink" } },
              "pairs": [ { "user": "a", "secure": "b" } ]
            }
            """;
        DaemonConfig config = ConfigLoader.Parse(Encoding.UTF8.GetBytes(json), _dir.File("fastpath.json"));
        Endpoint = config.Control;
        _daemon = Daemon.Start(config, TextWriter.Null);
    }

    public ControlEndpoint Endpoint { get; }

    public string MapsPath { get; }

    public string Folder => _dir.Path;

    public ControlClient Connect() => ControlClient.Connect(Endpoint, TimeSpan.FromSeconds(30));

    /// <summary>A fresh connection answers ping: the daemon is still serving.</summary>
    public void AssertServing()
    {
        using ControlClient client = Connect();
        using JsonDocument pong = client.Call("ping");
        Assert.Equal(Environment.ProcessId, pong.RootElement.GetProperty("result").GetProperty("pid").GetInt32());
    }

    public void Dispose()
    {
        _daemon.Dispose();
        _dir.Dispose();
    }
}
