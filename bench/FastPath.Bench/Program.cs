using BenchmarkDotNet.Running;

namespace FastPath.Bench;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project bench/FastPath.Bench -- --filter '*Ring*'</c>.
/// Every suite runs its anchors (.NET collections, Channels, PacketDotNet) in the same process and run,
/// so the ratios in RESULTS.md come from one run.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // Kernel-paced harnesses (not BenchmarkDotNet suites): tools/lab/kernel-compare.sh and tools/anchors/afpacket_ports.sh.
        if (args.Length > 0 && args[0] == "forward")
        {
            return Pipeline.ForwardHarness.Run(args[1..]);
        }

        // Per-stage cycle budget of `fastpath bench` (issue 18).
        if (args.Length > 0 && args[0] == "stages")
        {
            return Pipeline.StageBudget.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "afpacket-rx")
        {
            return Ports.AfPacketRxRate.Run(args[1..]);
        }

        // vTPM pair harnesses: black-box load mixes and kill -9 failover against child processes.
        if (args.Length > 0 && args[0] == "vtpm-load")
        {
            return Vtpm.VtpmLoadHarness.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "vtpm-failover")
        {
            return Vtpm.VtpmFailoverHarness.Run(args[1..]);
        }

        // libtpms's own time per command in this process: the engine floor every libtpms-based server pays.
        if (args.Length > 0 && args[0] == "vtpm-engine")
        {
            return Vtpm.VtpmEngineFloor.Run(args[1..]);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
