using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FastPath.Testing;

namespace FastPath.Cli.Tests.Fleet;

/// <summary>
/// A real etcd cluster (Debian <c>etcd-server</c> 3.4) on loopback: members on free ports with data directories in a
/// temporary folder, started as child processes, killed (and restarted) by their PIDs; <c>etcdctl</c> reads and compacts.
/// </summary>
/// <remarks>
/// The data directories are on tmpfs (<c>/dev/shm</c>) when the machine has it: this test cluster's durability is not
/// under test (a killed member keeps its data, tmpfs survives the process), and three members fsyncing every commit
/// to a disk other work shares put that disk into the 1M import's time (bench/RESULTS.md "Issue 17, 1M import in CI").
/// etcd 3.4 has no <c>--unsafe-no-fsync</c> (3.5 added it); the members run with etcd's defaults otherwise.
/// </remarks>
internal sealed class EtcdCluster : IDisposable
{
    private readonly string _data = Directory.CreateDirectory(Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(),
        "fastpath-etcd-" + Guid.NewGuid().ToString("N")[..12])).FullName;
    private readonly Process?[] _members;
    private readonly int[] _clientPorts;
    private readonly int[] _peerPorts;
    private readonly (string Cert, string Key, string Ca)? _tls;
    private bool _disposed;
    private readonly string _token = "fp-" + Guid.NewGuid().ToString("N")[..12];

    public EtcdCluster(int members, int? clientPort = null, (string Cert, string Key, string Ca)? tls = null)
    {
        _tls = tls;
        if (!File.Exists("/usr/bin/etcd") || !File.Exists("/usr/bin/etcdctl"))
        {
            throw new InvalidOperationException("etcd-server and etcd-client are not installed (tools/test.sh installs them)");
        }

        _members = new Process?[members];
        _clientPorts = [.. Enumerable.Range(0, members).Select(i => i == 0 && clientPort is int port ? port : FreePorts.One())];
        _peerPorts = [.. Enumerable.Range(0, members).Select(_ => FreePorts.One())];
        for (int i = 0; i < members; i++)
        {
            Start(i);
        }

        WaitHealthy(Enumerable.Range(0, members));
    }

    public int Count => _members.Length;

    /// <summary>A new one-member cluster (new data, so a new cluster id) serving at <paramref name="endpoint"/>.</summary>
    public static EtcdCluster At(string endpoint) => new(1, new Uri(endpoint).Port);

    /// <summary>http://127.0.0.1:PORT of member <paramref name="i"/>.</summary>
    public string Endpoint(int i) => string.Create(CultureInfo.InvariantCulture, $"{(_tls is null ? "http" : "https")}://127.0.0.1:{_clientPorts[i]}");

    /// <summary>Every member's endpoint, comma-separated, starting at <paramref name="first"/>.</summary>
    public string Endpoints(int first = 0) => string.Join(',', Enumerable.Range(0, Count).Select(i => Endpoint((first + i) % Count)));

    /// <summary>Starts member <paramref name="i"/> (again: its data directory is kept).</summary>
    public void Start(int i)
    {
        string initial = string.Join(',', Enumerable.Range(0, Count).Select(m => string.Create(CultureInfo.InvariantCulture, $"m{m}=http://127.0.0.1:{_peerPorts[m]}")));
        var start = new ProcessStartInfo("/usr/bin/etcd") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in new[]
        {
            "--name", $"m{i}", "--data-dir", Path.Combine(_data, $"m{i}"),
            "--listen-client-urls", Endpoint(i), "--advertise-client-urls", Endpoint(i),
            "--listen-peer-urls", string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{_peerPorts[i]}"),
            "--initial-advertise-peer-urls", string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{_peerPorts[i]}"),
            "--initial-cluster", initial, "--initial-cluster-token", _token, "--initial-cluster-state", "new",
            "--logger", "zap", "--log-level", "error",
        })
        {
            start.ArgumentList.Add(argument);
        }

        if (_tls is { } tls)
        {
            foreach (string argument in new[] { "--cert-file", tls.Cert, "--key-file", tls.Key, "--trusted-ca-file", tls.Ca, "--client-cert-auth" })
            {
                start.ArgumentList.Add(argument);
            }
        }

        Process process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        _members[i] = process;
    }

    /// <summary>SIGKILL member <paramref name="i"/> (by the PID this test started).</summary>
    public void Kill(int i)
    {
        Process? process = _members[i];
        if (process is null)
        {
            return;
        }

        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit();
        }

        process.Dispose();
        _members[i] = null;
    }

    /// <summary>Waits until every member in <paramref name="members"/> answers healthy.</summary>
    public void WaitHealthy(IEnumerable<int> members)
    {
        string endpoints = string.Join(',', members.Select(Endpoint));
        var waited = Stopwatch.StartNew();
        while (true)
        {
            ProcessResult health = Ctl(endpoints, "endpoint", "health");
            if (health.ExitCode == 0)
            {
                return;
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException("etcd did not become healthy: " + health.StandardOutput + health.StandardError);
            }

            Thread.Sleep(200);
        }
    }

    /// <summary>etcd's current revision and cluster id (from a read through the live members).</summary>
    public (long Revision, ulong ClusterId) Head()
    {
        ProcessResult result = Ctl(LiveEndpoints(), "get", "/fastpath-test-head", "-w", "json").EnsureSuccess();
        using JsonDocument document = JsonDocument.Parse(result.StandardOutput);
        JsonElement header = document.RootElement.GetProperty("header");
        return (header.GetProperty("revision").GetInt64(), header.GetProperty("cluster_id").GetUInt64());
    }

    /// <summary>Compacts the history up to the current revision.</summary>
    public long Compact()
    {
        long revision = Head().Revision;
        Ctl(LiveEndpoints(), "compact", revision.ToString(CultureInfo.InvariantCulture), "--physical").EnsureSuccess();
        return revision;
    }

    public ProcessResult Put(string key, string value) => Ctl(LiveEndpoints(), "put", key, value).EnsureSuccess();

    public ProcessResult Get(string key) => Ctl(LiveEndpoints(), "get", key, "--print-value-only").EnsureSuccess();

    public ProcessResult Ctl(string endpoints, params string[] arguments)
    {
        var start = new List<string> { "--endpoints", endpoints, "--command-timeout", "5s", "--dial-timeout", "2s" };
        if (_tls is { } tls)
        {
            // etcdctl authenticates with the member's own certificate (its CN is not checked without RBAC).
            start.AddRange(["--cacert", tls.Ca, "--cert", tls.Cert, "--key", tls.Key]);
        }

        start.AddRange(arguments);
        return ProcessRunner.Run("/usr/bin/etcdctl", start, TimeSpan.FromSeconds(30));
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        for (int i = 0; i < _members.Length; i++)
        {
            Kill(i);
        }

        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
            // A member just killed may still be closing a file; the folder is this cluster's own, named by a fresh id.
        }
    }

    private string LiveEndpoints() => string.Join(',', Enumerable.Range(0, Count).Where(i => _members[i] is not null).Select(Endpoint));
}
