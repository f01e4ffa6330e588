using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace FastPath.Bench;

/// <summary>
/// One job per instruction-set level, selected with the runtime's knobs, the scalar job as baseline:
/// apply with <c>[Config(typeof(IsaJobsConfig))]</c> to suites whose code has SIMD paths.
/// </summary>
/// <remarks>
/// .NET 10 knob names, checked on this machine: <c>DOTNET_EnableAVX512=0</c> hides Vector512
/// (the .NET 8 name <c>EnableAVX512F</c> no longer has any effect), <c>DOTNET_EnableAVX2=0</c> leaves
/// Vector128 only, <c>DOTNET_EnableHWIntrinsic=0</c> turns every vector type into software fallbacks.
/// </remarks>
public sealed class IsaJobsConfig : ManualConfig
{
    public IsaJobsConfig()
    {
        AddJob(Job.Default.WithId("Scalar").WithEnvironmentVariable("DOTNET_EnableHWIntrinsic", "0").AsBaseline());
        AddJob(Job.Default.WithId("V128").WithEnvironmentVariable("DOTNET_EnableAVX2", "0"));
        AddJob(Job.Default.WithId("V256").WithEnvironmentVariable("DOTNET_EnableAVX512", "0"));
        AddJob(Job.Default.WithId("V512"));
    }
}
