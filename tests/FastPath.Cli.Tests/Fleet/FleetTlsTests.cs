using System.Text.Json;
using FastPath.Cli.Tests.Daemon;
using FastPath.Testing;

namespace FastPath.Cli.Tests.Fleet;

/// <summary>
/// Fleet maps over TLS with client certificates (openssl-made CA, member and client certificates; the member demands a
/// client certificate): the CLI writes directly, a daemon configured with ca/cert/key follows; a client without the
/// certificate is refused.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class FleetTlsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_cli_and_a_daemon_reach_etcd_over_tls_with_a_client_certificate()
    {
        Pki();
        using var etcd = new EtcdCluster(1, tls: (_dir.File("server.pem"), _dir.File("server-key.pem"), _dir.File("ca.pem")));
        string endpoint = etcd.Endpoint(0);
        Assert.StartsWith("https://", endpoint);
        var environment = new Dictionary<string, string>
        {
            ["FASTPATH_ETCD_CA"] = _dir.File("ca.pem"),
            ["FASTPATH_ETCD_CERT"] = _dir.File("client.pem"),
            ["FASTPATH_ETCD_KEY"] = _dir.File("client-key.pem"),
        };
        ProcessResult add = ProcessRunner.Run(FastpathProcess.Executable, ["map", "add", "--user", "198.18.1.5", "--secure", "198.19.1.5", "--etcd", endpoint], environment: environment);
        Assert.True(add.ExitCode == 0, add.StandardError);

        // Without the client certificate the member refuses the connection.
        ProcessResult anonymous = ProcessRunner.Run(FastpathProcess.Executable, ["map", "list", "--etcd", endpoint],
            environment: new Dictionary<string, string> { ["FASTPATH_ETCD_CA"] = _dir.File("ca.pem") });
        Assert.Equal(1, anonymous.ExitCode);
        Assert.Contains("fastpath: etcd: ", anonymous.StandardError);

        File.WriteAllText(_dir.File("fastpath.json"), $$"""
            { "maps": { "etcd": { "endpoints": ["{{endpoint}}"], "prefix": "/fastpath/maps/", "ca": "ca.pem", "cert": "client.pem", "key": "client-key.pem" } },
              "ports": { "a": { "type": "sink" }, "b": { "type": "sink" } }, "pairs": [ { "user": "a", "secure": "b" } ] }
            """);
        using DaemonProcess daemon = DaemonProcess.Start(_dir.File("fastpath.json"), "unix:" + _dir.File("control.sock"));
        ProcessResult second = daemon.Cli("map", "add", "--user", "198.18.1.6", "--secure", "198.19.1.6").EnsureSuccess();
        Assert.Contains("added; 2 mappings; etcd revision", second.StandardOutput);
        using JsonDocument stats = JsonDocument.Parse(daemon.Cli("stats", "--json").EnsureSuccess().StandardOutput);
        Assert.True(stats.RootElement.GetProperty("fleet").GetProperty("etcd_up").GetBoolean());
        Assert.Equal(2, stats.RootElement.GetProperty("table").GetProperty("mappings").GetInt64());
    }

    private void Pki()
    {
        void Ssl(params string[] arguments) => ProcessRunner.Run("openssl", arguments).EnsureSuccess();
        Ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=fastpath-test-ca",
            "-keyout", _dir.File("ca-key.pem"), "-out", _dir.File("ca.pem"));
        foreach ((string name, string extension) in new[] { ("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth") })
        {
            Ssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", $"/CN=fastpath-test-{name}",
                "-keyout", _dir.File($"{name}-key.pem"), "-out", _dir.File($"{name}.csr"));
            File.WriteAllText(_dir.File($"{name}.ext"), extension + "\n");
            Ssl("x509", "-req", "-in", _dir.File($"{name}.csr"), "-CA", _dir.File("ca.pem"), "-CAkey", _dir.File("ca-key.pem"), "-CAcreateserial",
                "-days", "2", "-extfile", _dir.File($"{name}.ext"), "-out", _dir.File($"{name}.pem"));
        }
    }
}
