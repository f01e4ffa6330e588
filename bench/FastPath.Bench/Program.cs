using BenchmarkDotNet.Running;

namespace FastPath.Bench;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project bench/FastPath.Bench -- --filter '*Ring*'</c>.
/// Every suite runs its anchors (.NET collections, Channels, PacketDotNet) in the same process and run,
/// so the ratios in RESULTS.md come from one run.
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
