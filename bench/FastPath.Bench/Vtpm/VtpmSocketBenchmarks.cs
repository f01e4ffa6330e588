using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Protocol;
using FastPath.Vtpm.State;

namespace FastPath.Bench.Vtpm;

/// <summary>
/// Commands per second over the swtpm socket protocol, FastPath's vTPM against swtpm (the anchor) in the
/// same run, with one persistent connection and with a new connection per command (what the tpm2-tss swtpm
/// TCTI does). FastPath runs in this process with its state store on disk (every NV write fsync'd before the
/// response); swtpm runs as a child process with its state directory on the same file system.
/// Run: <c>dotnet run -c Release --project bench/FastPath.Bench -- --filter '*VtpmSocket*'</c>.
/// </summary>
[Config(typeof(ShortConfig))]
public class VtpmSocketBenchmarks
{
    private const int ConcurrentClients = 16;
    private const int WritesPerClient = 4;

    private readonly byte[] _response = new byte[8192];
    private int _concurrentCounter;
    private byte[] _getRandom = [];
    private byte[] _pcrExtend = [];
    private byte[] _pcrRead = [];
    private byte[] _nvRead = [];
    private byte[] _nvWrite = [];
    private string _stateDirectory = "";
    private SwtpmServer? _server;
    private Process? _swtpm;
    private Socket? _persistent;
    private int _port;
    private uint _counter;

    [Params("fastpath", "swtpm")]
    public string Target { get; set; } = "fastpath";

    [Params("persistent", "per-connection")]
    public string Connection { get; set; } = "persistent";

    [GlobalSetup]
    public void Setup()
    {
        _stateDirectory = Directory.CreateTempSubdirectory("fastpath-vtpm-bench-").FullName;
        _port = FreePort();
        if (Target == "fastpath")
        {
            _server = new SwtpmServer(new StateStore(_stateDirectory), SystemRandomSource.Instance);
            _server.Start(IPAddress.Loopback, _port);
        }
        else
        {
            var start = new ProcessStartInfo("swtpm") { UseShellExecute = false, RedirectStandardError = true };
            foreach (string argument in (string[])["socket", "--tpm2", "--server", $"type=tcp,port={_port},bindaddr=127.0.0.1", "--ctrl", $"type=tcp,port={_port + 1},bindaddr=127.0.0.1", "--tpmstate", $"dir={_stateDirectory}", "--flags", "not-need-init"])
            {
                start.ArgumentList.Add(argument);
            }

            _swtpm = Process.Start(start) ?? throw new InvalidOperationException("could not start swtpm");
        }

        WaitForListener(_port);
        _getRandom = TpmWire.GetRandom(32);
        _pcrExtend = TpmWire.PcrExtendSha256(16);
        _pcrRead = TpmWire.PcrReadSha256(16);
        _nvRead = TpmWire.NvRead(32);
        _nvWrite = TpmWire.NvWrite(new byte[32]);
        using (Socket socket = TpmWire.Connect(_port))
        {
            Expect(TpmWire.RoundTrip(socket, TpmWire.StartupClear(), _response), 0);
            Expect(TpmWire.RoundTrip(socket, TpmWire.NvDefine(32), _response), 0);
            Expect(TpmWire.RoundTrip(socket, _nvWrite, _response), 0);
        }

        if (Connection == "persistent")
        {
            _persistent = TpmWire.Connect(_port);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _persistent?.Dispose();
        _server?.Dispose();
        if (_swtpm is not null)
        {
            _swtpm.Kill();
            _swtpm.WaitForExit();
            _swtpm.Dispose();
        }

        Directory.Delete(_stateDirectory, recursive: true);
    }

    [Benchmark]
    public uint GetRandom32() => Send(_getRandom);

    [Benchmark]
    public uint PcrExtendSha256() => Send(_pcrExtend);

    [Benchmark]
    public uint PcrRead() => Send(_pcrRead);

    [Benchmark]
    public uint NvRead32() => Send(_nvRead);

    /// <summary>Changing data each time, so neither side can skip an unchanged write.</summary>
    [Benchmark]
    public uint NvWrite32()
    {
        _counter++;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(_nvWrite.AsSpan(TpmWire.NvWriteDataOffset), _counter);
        return Send(_nvWrite);
    }

    /// <summary>Sixteen clients writing at once (each its own connection mode): FastPath's group commit lets
    /// one fsync'd state write cover every change made while the previous write was in flight.</summary>
    [Benchmark(OperationsPerInvoke = ConcurrentClients * WritesPerClient)]
    public void NvWrite32Concurrent16()
    {
        if (Target == "swtpm" && Connection == "persistent")
        {
            // Measured once: swtpm serves one connection at a time, and sixteen clients that keep their
            // connections open queued behind each other for more than five minutes (see RESULTS.md).
            throw new NotSupportedException("swtpm serves one connection at a time; 16 persistent clients stall");
        }

        Parallel.For(0, ConcurrentClients, new ParallelOptions { MaxDegreeOfParallelism = ConcurrentClients }, client =>
        {
            byte[] command = TpmWire.NvWrite(new byte[32]);
            byte[] response = new byte[8192];
            Socket? persistent = Connection == "persistent" ? TpmWire.Connect(_port) : null;
            for (int i = 0; i < WritesPerClient; i++)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(command.AsSpan(TpmWire.NvWriteDataOffset), (uint)Interlocked.Increment(ref _concurrentCounter));
                if (persistent is not null)
                {
                    Expect(TpmWire.RoundTrip(persistent, command, response), 0);
                }
                else
                {
                    using Socket socket = TpmWire.Connect(_port);
                    Expect(TpmWire.RoundTrip(socket, command, response), 0);
                }
            }

            persistent?.Dispose();
        });
    }

    private uint Send(byte[] command)
    {
        if (_persistent is not null)
        {
            return TpmWire.RoundTrip(_persistent, command, _response);
        }

        using Socket socket = TpmWire.Connect(_port);
        return TpmWire.RoundTrip(socket, command, _response);
    }

    private static void Expect(uint code, uint expected)
    {
        if (code != expected)
        {
            throw new InvalidOperationException($"setup command answered 0x{code:x}, expected 0x{expected:x}");
        }
    }

    /// <summary>A port pair below the ephemeral range (32768+), where the per-connection runs leave
    /// thousands of client sockets in TIME_WAIT.</summary>
    private static int FreePort()
    {
        for (int attempt = 0; attempt < 200; attempt++)
        {
            int port = Random.Shared.Next(20000, 32766);
            if (IsFree(port) && IsFree(port + 1))
            {
                return port;
            }
        }

        throw new InvalidOperationException("no free loopback port pair");
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
        for (int i = 0; i < 200; i++)
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
