using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Protocol;
using FastPath.Vtpm.State;
using FastPath.Harness;

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
    private VtpmServerProcess? _swtpm;
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
        if (Target == "fastpath")
        {
            _stateDirectory = Directory.CreateTempSubdirectory("fastpath-vtpm-bench-").FullName;
            _port = FreePorts.Pair();
            _server = new SwtpmServer(new StateStore(_stateDirectory));
            _server.Start(FastPath.Vtpm.Protocol.VtpmEndpoint.Tcp(_port));
            FreePorts.WaitForListener(_port, TimeSpan.FromSeconds(10), () => "in-process SwtpmServer");
        }
        else
        {
            _swtpm = VtpmServerProcess.Start("swtpm");
            _port = _swtpm.Port;
        }

        _getRandom = TpmWire.GetRandom(32);
        _pcrExtend = TpmWire.PcrExtendSha256(16);
        _pcrRead = TpmWire.PcrReadSha256(16);
        _nvRead = TpmWire.NvRead(32);
        _nvWrite = TpmWire.NvWrite(new byte[32]);
        using (Socket socket = TpmWire.Connect(_port))
        {
            TpmWire.Expect(TpmWire.RoundTrip(socket, TpmWire.StartupClear(), _response), "TPM2_Startup", Target);
            TpmWire.Expect(TpmWire.RoundTrip(socket, TpmWire.NvDefine(TpmWire.NvSize), _response), "TPM2_NV_DefineSpace", Target);
            TpmWire.Expect(TpmWire.RoundTrip(socket, _nvWrite, _response), "TPM2_NV_Write", Target);
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
        _swtpm?.Dispose();
        if (_stateDirectory.Length > 0)
        {
            Directory.Delete(_stateDirectory, recursive: true);
        }
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
                    TpmWire.Expect(TpmWire.RoundTrip(persistent, command, response), "TPM2_NV_Write", Target);
                }
                else
                {
                    using Socket socket = TpmWire.Connect(_port);
                    TpmWire.Expect(TpmWire.RoundTrip(socket, command, response), "TPM2_NV_Write", Target);
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

    /// <summary>A short run (the machine is shared): one launch, one warm-up, five measured iterations.</summary>
    private sealed class ShortConfig : ManualConfig
    {
        public ShortConfig()
        {
            AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(5).WithId("Short"));
        }
    }
}
