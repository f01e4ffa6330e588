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
        // "forward" is the FastPath side of tools/lab/kernel-compare.sh, not a BenchmarkDotNet suite.
        if (args.Length > 0 && args[0] == "forward")
        {
            return Pipeline.ForwardHarness.Run(args[1..]);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
