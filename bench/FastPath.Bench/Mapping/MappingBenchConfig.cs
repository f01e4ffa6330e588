using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace FastPath.Bench.Mapping;

/// <summary>
/// Short runs (the machine is shared) with 5 measured iterations, median and minimum beside the mean, and
/// cycles per key at the TSC rate so the figures sit next to DPDK's rdtsc-based ones.
/// </summary>
public sealed class MappingBenchConfig : ManualConfig
{
    public MappingBenchConfig()
    {
        AddJob(Job.ShortRun.WithIterationCount(5).WithId("Short5"));
        AddColumn(StatisticColumn.Median, StatisticColumn.Min, new TscCyclesColumn());
    }
}
