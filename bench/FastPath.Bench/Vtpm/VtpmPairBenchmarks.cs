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

    private readonly byte[] _response = new byte[TpmWire.ResponseBufferSize];
    private byte[] _getRandom = [];
    private byte[] _pcrExtend = [];
    private byte[] _pcrRead = [];
    private byte[] _nvWrite = [];
    private VtpmServerProcess? _server;
    private Socket? _persistent;
    private uint _counter;

    [Params("pair", "single", "swtpm")]
    public string Target { get; set; } = "pair";

    [GlobalSetup]
    public void Setup()
    {
        _server = VtpmServerProcess.Start(Target);
        _server.Initialize();
        _getRandom = TpmWire.GetRandom(32);
        _pcrExtend = TpmWire.PcrExtendSha256(16);
        _pcrRead = TpmWire.PcrReadSha256(16);
        _nvWrite = TpmWire.NvWrite(new byte[TpmWire.NvSize]);
        _persistent = TpmWire.Connect(_server.Port);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _persistent?.Dispose();
        _server?.Dispose();
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
            byte[] response = new byte[TpmWire.ResponseBufferSize];
            for (int i = 0; i < ReadsPerClient; i++)
            {
                using Socket socket = TpmWire.Connect(_server!.Port);
                TpmWire.Expect(TpmWire.RoundTrip(socket, _pcrRead, response), "TPM2_PCR_Read", Target);
            }
        });
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
