using System.Buffers.Binary;
using System.Globalization;
using FastPath.Dataplane.Interop;
using FastPath.Vtpm.Engine;

namespace FastPath.Bench.Vtpm;

/// <summary>
/// The engine floor (issue 16, goal "--single ≥ 2× swtpm"): libtpms's own time per command, in this process, with
/// no socket, no store and no other thread: <see cref="LibtpmsEngine.Execute"/> (TPMLIB_Process and the response
/// copy) on an in-memory TPM, timed by the calling thread's CPU time (clock_gettime(CLOCK_THREAD_CPUTIME_ID)).
/// swtpm runs the same libtpms for every command, so this is a cost both servers pay; a server's CPU per command
/// minus this is its own overhead (sockets, wake-ups, the store).
/// usage: <c>vtpm-engine [--iterations N] [--rounds R]</c>.
/// </summary>
/// <remarks>Single-threaded console harness.</remarks>
internal static unsafe class VtpmEngineFloor
{
    private const string Usage = "usage: vtpm-engine [--iterations N] [--rounds R]";

    public static int Run(string[] args)
    {
        int iterations;
        int rounds;
        try
        {
            var options = new HarnessOptions(args, "--iterations", "--rounds");
            iterations = options.Int("--iterations", 20000, 100, 10_000_000);
            rounds = options.Int("--rounds", 3, 1, 100);
        }
        catch (ArgumentException exception)
        {
            Console.Error.WriteLine($"vtpm-engine: {exception.Message}\n{Usage}");
            return 2;
        }

        using var engine = new LibtpmsEngine(persistent: null, persist: null);
        byte[] response = new byte[VtpmEngine.ResponseBufferSize];
        Expect(engine, TpmWire.StartupClear(), response, "TPM2_Startup(CLEAR)");
        Expect(engine, TpmWire.NvDefine(TpmWire.NvSize), response, "TPM2_NV_DefineSpace");
        byte[] nvWrite = TpmWire.NvWrite(new byte[TpmWire.NvSize]);
        if (Execute(engine, nvWrite, response) == TpmWire.Retry)
        {
            // libtpms answers the first write of a new index TPM_RC_RETRY, as a TSS sees it.
            Expect(engine, nvWrite, response, "TPM2_NV_Write");
        }

        (string Name, byte[] Command, VtpmOp Op)[] commands =
        [
            ("PCR_Read", TpmWire.PcrReadSha256(16), VtpmOp.PcrRead),
            ("NV_Read 32 B", TpmWire.NvRead(TpmWire.NvSize), VtpmOp.NvRead),
            ("GetCapability", TpmWire.GetCapabilityFamily(), VtpmOp.GetCapability),
            ("PCR_Extend", TpmWire.PcrExtendSha256(16), VtpmOp.PcrExtend),
            ("NV_Write 32 B", nvWrite, VtpmOp.NvWrite),
        ];

        Console.WriteLine($"libtpms {LibtpmsEngine.LibraryVersion >> 16}.{(LibtpmsEngine.LibraryVersion >> 8) & 0xff}.{LibtpmsEngine.LibraryVersion & 0xff} in process, {iterations} commands per cell, median of {rounds} rounds, thread CPU time");
        var perOp = new Dictionary<VtpmOp, double>();
        foreach ((string name, byte[] command, VtpmOp op) in commands)
        {
            for (int i = 0; i < Math.Min(iterations, 2000); i++)
            {
                Execute(engine, command, response);
            }

            double[] samples = new double[rounds];
            for (int round = 0; round < rounds; round++)
            {
                long before = ThreadCpuNanoseconds();
                for (int i = 0; i < iterations; i++)
                {
                    uint code = Execute(engine, command, response);
                    if (code != TpmWire.Success)
                    {
                        throw new InvalidOperationException($"{name} answered 0x{code:x}");
                    }
                }

                samples[round] = (ThreadCpuNanoseconds() - before) / 1000.0 / iterations;
            }

            Array.Sort(samples);
            perOp[op] = samples[rounds / 2];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {perOp[op]:F1} µs | (rounds: {string.Join(", ", samples.Select(s => s.ToString("F1", CultureInfo.InvariantCulture)))}) |"));
        }

        // What a store snapshot costs beside a command (the rollback point a waiting change takes, the digest).
        int blobs = Math.Max(100, iterations / 20);
        long start = ThreadCpuNanoseconds();
        int permanentBytes = 0;
        for (int i = 0; i < blobs; i++)
        {
            permanentBytes = engine.SerializePersistent().Length;
        }

        double permanent = (ThreadCpuNanoseconds() - start) / 1000.0 / blobs;
        start = ThreadCpuNanoseconds();
        int volatileBytes = 0;
        for (int i = 0; i < blobs; i++)
        {
            volatileBytes = engine.SerializeState().Length;
        }

        double volatileMicros = (ThreadCpuNanoseconds() - start) / 1000.0 / blobs;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"permanent blob ({permanentBytes} B) {permanent:F1} µs, volatile blob ({volatileBytes} B) {volatileMicros:F1} µs each"));

        foreach (VtpmMix mix in (VtpmMix[])[VtpmMix.ReadHeavy, VtpmMix.WriteHeavy])
        {
            double mean = mix.Cycle.Average(op => perOp[op]);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{mix.Name}: libtpms {mean:F1} µs per command of the mix (its 20-command cycle)"));
        }

        return 0;
    }

    private static uint Execute(LibtpmsEngine engine, byte[] command, byte[] response)
    {
        int length = engine.Execute(command, response);
        return length >= 10 ? BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6)) : uint.MaxValue;
    }

    private static void Expect(LibtpmsEngine engine, byte[] command, byte[] response, string what)
    {
        uint code = Execute(engine, command, response);
        if (code != TpmWire.Success)
        {
            throw new InvalidOperationException($"{what} answered 0x{code:x}");
        }
    }

    /// <summary>The calling thread's CPU time in nanoseconds (clock_gettime(CLOCK_THREAD_CPUTIME_ID), which is exact;
    /// /proc's schedstat lags until the scheduler next accounts the running thread).</summary>
    private static long ThreadCpuNanoseconds()
    {
        Libc.Timespec time;
        Errno.Check(Libc.ClockGettime(LinuxConstants.ClockThreadCputimeId, &time), "clock_gettime");
        return (time.Seconds * 1_000_000_000) + time.Nanoseconds;
    }
}
