using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace FastPath.Bench.Vtpm;

/// <summary>
/// Commands per second through the high-availability pair (`fastpath vtpm serve`: controller + two instance
/// processes), a single FastPath instance (`fastpath vtpm serve --single`) and swtpm, all three as child
/// processes in the same run, one persistent loopback connection per client; plus a read-heavy load from eight
/// concurrent clients (the pair spreads READs over both instances).
/// Run: build the CLI in Release first, then
/// <c>dotnet run -c Release --project bench/FastPath.Bench -- --filter '*VtpmPair*'</c>.
/// </summary>
[Config(typeof(ShortConfig))]
public class VtpmPairBenchmarks
{
    private const int ReadClients = 8;
    private const int ReadsPerClient = 32;

    private readonly byte[] _response = new byte[8192];
    private byte[] _getRandom = [];
    private byte[] _pcrExtend = [];
    private byte[] _pcrRead = [];
    private byte[] _nvWrite = [];
    private string _stateDirectory = "";
    private Process? _server;
    private Socket? _persistent;
    private int _port;
    private uint _counter;

    [Params("pair", "single", "swtpm")]
    public string Target { get; set; } = "pair";

    [GlobalSetup]
    public void Setup()
    {
        _stateDirectory = Directory.CreateTempSubdirectory("fastpath-vtpm-pair-bench-").FullName;
        _port = FreePort();
        (string file, string[] arguments) = Target switch
        {
            "pair" => (Fastpath(), new[] { "vtpm", "serve", "--port", _port.ToString(), "--state", _stateDirectory }),
            "single" => (Fastpath(), ["vtpm", "serve", "--port", _port.ToString(), "--state", _stateDirectory, "--single"]),
            _ => ("swtpm", ["socket", "--tpm2", "--server", $"type=tcp,port={_port},bindaddr=127.0.0.1", "--ctrl", $"type=tcp,port={_port + 1},bindaddr=127.0.0.1", "--tpmstate", $"dir={_stateDirectory}", "--flags", "not-need-init"]),
        };
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        _server = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginErrorReadLine();
        WaitForListener(_port);
        _getRandom = TpmWire.GetRandom(32);
        _pcrExtend = TpmWire.PcrExtendSha256(16);
        _pcrRead = TpmWire.PcrReadSha256(16);
        _nvWrite = TpmWire.NvWrite(new byte[32]);
        using (Socket socket = TpmWire.Connect(_port))
        {
            Expect(TpmWire.RoundTrip(socket, TpmWire.StartupClear(), _response), 0);
            Expect(TpmWire.RoundTrip(socket, TpmWire.NvDefine(32), _response), 0);
            Expect(TpmWire.RoundTrip(socket, _nvWrite, _response), 0);
        }

        _persistent = TpmWire.Connect(_port);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _persistent?.Dispose();
        if (_server is not null)
        {
            // SIGTERM lets the pair's controller stop its instances; swtpm exits on it too.
            using (Process term = Process.Start("kill", ["-TERM", _server.Id.ToString()])!)
            {
                term.WaitForExit();
            }

            if (!_server.WaitForExit(10_000))
            {
                _server.Kill();
            }

            _server.Dispose();
        }

        Directory.Delete(_stateDirectory, recursive: true);
    }

    [Benchmark]
    public uint GetRandom32() => TpmWire.RoundTrip(_persistent!, _getRandom, _response);

    [Benchmark]
    public uint PcrExtendSha256() => TpmWire.RoundTrip(_persistent!, _pcrExtend, _response);

    [Benchmark]
    public uint PcrRead() => TpmWire.RoundTrip(_persistent!, _pcrRead, _response);

    [Benchmark]
    public uint NvWrite32()
    {
        _counter++;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(_nvWrite.AsSpan(TpmWire.NvWriteDataOffset), _counter);
        return TpmWire.RoundTrip(_persistent!, _nvWrite, _response);
    }

    /// <summary>Read-heavy: eight clients, each on its own connection, each a new connection per command (swtpm
    /// serves one connection at a time, so persistent concurrent clients would stall it).</summary>
    [Benchmark(OperationsPerInvoke = ReadClients * ReadsPerClient)]
    public void PcrReadConcurrent8()
    {
        Parallel.For(0, ReadClients, new ParallelOptions { MaxDegreeOfParallelism = ReadClients }, _ =>
        {
            byte[] response = new byte[8192];
            for (int i = 0; i < ReadsPerClient; i++)
            {
                using Socket socket = TpmWire.Connect(_port);
                Expect(TpmWire.RoundTrip(socket, _pcrRead, response), 0);
            }
        });
    }

    /// <summary>control/FastPath.Cli/bin/Release/net10.0/fastpath of the checkout this benchmark runs from.</summary>
    private static string Fastpath()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FastPath.sln")))
            {
                string path = Path.Combine(dir.FullName, "control", "FastPath.Cli", "bin", "Release", "net10.0", "fastpath");
                return File.Exists(path) ? path : throw new FileNotFoundException($"build the CLI in Release first: {path} is missing");
            }
        }

        throw new InvalidOperationException("FastPath.sln not found above " + AppContext.BaseDirectory);
    }

    private static void Expect(uint code, uint expected)
    {
        if (code != expected)
        {
            throw new InvalidOperationException($"command answered 0x{code:x}, expected 0x{expected:x}");
        }
    }

    /// <summary>P, P+1, P+2 free, below the ephemeral range.</summary>
    private static int FreePort()
    {
        for (int attempt = 0; attempt < 200; attempt++)
        {
            int port = Random.Shared.Next(20000, 32765);
            if (IsFree(port) && IsFree(port + 1) && IsFree(port + 2))
            {
                return port;
            }
        }

        throw new InvalidOperationException("no free loopback port triple");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static void WaitForListener(int port)
    {
        for (int i = 0; i < 600; i++)
        {
            try
            {
                using Socket socket = TpmWire.Connect(port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new TimeoutException($"nothing listens on 127.0.0.1:{port}");
    }

    /// <summary>A short run (the machine is shared): one launch, one warm-up, five measured iterations.</summary>
    private sealed class ShortConfig : ManualConfig
    {
        public ShortConfig()
        {
            AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(5).WithId("Short"));
        }
    }
}
