using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using FastPath.Vtpm.Interop;
using FastPath.Vtpm.State;
using Microsoft.Win32.SafeHandles;

namespace FastPath.Bench.Vtpm;

/// <summary>
/// One durable save of a 4 KiB state blob on the disk under the temp directory: the state store (two slots
/// written alternately in place, one fdatasync) against the algorithm it replaced (temp file, fsync, rename,
/// directory fsync; kept here only as the anchor) and against the floor of one flush (pwrite + fdatasync of a
/// single file, which is not crash-atomic).
/// Run: <c>dotnet run -c Release --project bench/FastPath.Bench -- --filter '*StateStoreSave*'</c>.
/// </summary>
[Config(typeof(ShortConfig))]
public class StateStoreSaveBenchmarks
{
    private readonly byte[] _blob = new byte[4096];
    private string _directory = "";
    private StateStore? _store;
    private SafeFileHandle? _floor;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("fastpath-statestore-bench-").FullName;
        new Random(4).NextBytes(_blob);
        _store = new StateStore(Path.Combine(_directory, "slots"));
        _store.Save(_blob);
        _store.Save(_blob);
        Directory.CreateDirectory(Path.Combine(_directory, "rename"));
        _floor = File.OpenHandle(Path.Combine(_directory, "floor.bin"), FileMode.Create, FileAccess.ReadWrite);
        RandomAccess.Write(_floor, _blob, 0);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store?.Dispose();
        _floor?.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "temp + fsync + rename + dir fsync (old)")]
    public void TempRename()
    {
        _blob[0]++;
        string directory = Path.Combine(_directory, "rename");
        string temp = Path.Combine(directory, "tpm2-state.tmp");
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.None))
        {
            stream.Write(_blob);
            stream.Write(System.Security.Cryptography.SHA256.HashData(_blob));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, Path.Combine(directory, "tpm2-state.bin"), overwrite: true);
        int fd = Posix.Open(directory, Posix.ORdOnly | Posix.ODirectory | Posix.OCloexec);
        if (fd < 0 || Posix.Fsync(fd) != 0)
        {
            throw new IOException($"directory fsync failed: errno {Marshal.GetLastPInvokeError()}");
        }

        Posix.Close(fd);
    }

    [Benchmark(Description = "StateStore.Save: slot in place + fdatasync (new)")]
    public void Slots()
    {
        _blob[0]++;
        _store!.Save(_blob);
    }

    [Benchmark(Description = "pwrite + fdatasync, one file (floor, not atomic)")]
    public void Floor()
    {
        _blob[0]++;
        RandomAccess.Write(_floor!, _blob, 0);
        if (Posix.Fdatasync(_floor!) != 0)
        {
            throw new IOException($"fdatasync failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>A short run (the machine is shared): one launch, two warm-ups, ten iterations of 64 saves each
    /// (a fixed count: the pilot stage picks too few invocations for millisecond operations on a noisy disk).</summary>
    private sealed class ShortConfig : ManualConfig
    {
        public ShortConfig()
        {
            AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(10).WithInvocationCount(64).WithUnrollFactor(1).WithId("Short"));
        }
    }
}
