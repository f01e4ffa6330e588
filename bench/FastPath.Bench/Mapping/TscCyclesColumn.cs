using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace FastPath.Bench.Mapping;

/// <summary>
/// Median time per operation in TSC cycles: ns × the TSC rate the kernel detected (<c>cpu MHz</c> in
/// /proc/cpuinfo, which on these VMs equals the rate DPDK's EAL reports), the unit of DPDK's perf tests.
/// </summary>
public sealed class TscCyclesColumn : IColumn
{
    private static readonly double s_tscGhz = ReadTscGhz();

    public string Id => nameof(TscCyclesColumn);

    public string ColumnName => $"Cycles (TSC {s_tscGhz:F3} GHz)";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Statistics;

    public int PriorityInCategory => 10;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Median nanoseconds per operation times the TSC rate";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        BenchmarkReport? report = summary[benchmarkCase];
        return report?.ResultStatistics is { } stats
            ? (stats.Median * s_tscGhz).ToString("F1", CultureInfo.InvariantCulture)
            : "-";
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    internal static double ReadTscGhz()
    {
        foreach (string line in File.ReadLines("/proc/cpuinfo"))
        {
            if (line.StartsWith("cpu MHz", StringComparison.Ordinal))
            {
                return double.Parse(line[(line.IndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture) / 1000;
            }
        }

        throw new InvalidOperationException("/proc/cpuinfo has no 'cpu MHz' line to take the TSC rate from");
    }
}
