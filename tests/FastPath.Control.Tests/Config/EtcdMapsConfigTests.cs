using System.Text;
using FastPath.Control.Config;
using FastPath.Testing;

namespace FastPath.Control.Tests.Config;

/// <summary><c>"maps": {"etcd": {...}}</c>: read whole, every error named by its JSON path; a string stays a maps file.</summary>
public sealed class EtcdMapsConfigTests : IDisposable
{
    private const string Ports = """
        "ports": { "gen": { "type": "generator" }, "out": { "type": "sink" } },
        "pairs": [ { "user": "gen", "secure": "out" } ]
        """;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void An_etcd_maps_object_loads_with_tls_files_relative_to_the_config()
    {
        DaemonConfig config = Load($$"""
            { "maps": { "etcd": { "endpoints": ["https://10.0.0.1:2379", "https://10.0.0.2:2379"], "prefix": "/fleet/a",
                                  "ca": "ca.pem", "cert": "c.pem", "key": "k.pem", "dial_timeout_ms": 750 } }, {{Ports}} }
            """);
        Assert.Null(config.MapsFile);
        EtcdMapsConfig etcd = config.MapsEtcd!;
        Assert.Equal(["https://10.0.0.1:2379/", "https://10.0.0.2:2379/"], etcd.Endpoints.Select(e => e.ToString()));
        Assert.Equal("/fleet/a/", etcd.Prefix);
        Assert.Equal(Path.Combine(_dir.Path, "ca.pem"), etcd.CaFile);
        Assert.Equal(Path.Combine(_dir.Path, "k.pem"), etcd.KeyFile);
        Assert.Equal(TimeSpan.FromMilliseconds(750), etcd.DialTimeout);
    }

    [Theory]
    [InlineData("""{ "etcd": { "endpoints": ["127.0.0.1:2379"], "prefix": "/p/" } }""", "maps.etcd.endpoints: expected http://HOST:PORT or https://HOST:PORT ('127.0.0.1:2379')")]
    [InlineData("""{ "etcd": { "endpoints": [], "prefix": "/p/" } }""", "maps.etcd.endpoints: expected 1-16 endpoints, got 0")]
    [InlineData("""{ "etcd": { "endpoints": ["http://127.0.0.1:2379"] } }""", "maps.etcd.prefix: missing")]
    [InlineData("""{ "etcd": { "endpoints": ["http://127.0.0.1:2379"], "prefix": "fastpath" } }""", "maps.etcd.prefix: expected a key prefix starting with '/'")]
    [InlineData("""{ "etcd": { "endpoints": ["http://127.0.0.1:2379"], "prefix": "/p/", "ca": "ca.pem" } }""", "maps.etcd.endpoints: TLS files are given but an endpoint is not https://")]
    [InlineData("""{ "etcd": { "endpoints": ["https://127.0.0.1:2379"], "prefix": "/p/", "cert": "c.pem" } }""", "maps.etcd.key: a client certificate needs both cert and key")]
    [InlineData("""{ "etcd": { "endpoints": ["http://127.0.0.1:2379"], "prefix": "/p/", "dial_timeout_ms": 0 } }""", "maps.etcd.dial_timeout_ms: expected milliseconds, 10-60000")]
    [InlineData("""{ "etcd": { "endpoints": ["http://127.0.0.1:2379"], "prefix": "/p/", "watch": true } }""", "maps.etcd.watch: unknown field")]
    [InlineData("""{ "consul": {} }""", "maps.consul: unknown field")]
    public void A_bad_etcd_maps_object_is_refused_with_its_path(string maps, string expected)
    {
        InputFileException error = Assert.Throws<InputFileException>(() => Load($$"""{ "maps": {{maps}}, {{Ports}} }"""));
        Assert.Contains(expected, error.Message);
        Assert.StartsWith(Path.Combine(_dir.Path, "fastpath.json") + ": ", error.Message);
    }

    private DaemonConfig Load(string json)
    {
        string path = Path.Combine(_dir.Path, "fastpath.json");
        File.WriteAllText(path, json, Encoding.UTF8);

        // The control socket's directory must exist (it is never created): the test's own folder.
        return ConfigLoader.Load(path, "unix:" + Path.Combine(_dir.Path, "control.sock"));
    }
}
