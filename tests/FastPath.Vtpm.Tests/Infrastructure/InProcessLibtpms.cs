namespace FastPath.Vtpm.Tests.Infrastructure;

/// <summary>Tests that run libtpms inside the test process: libtpms holds one TPM per process, so they run one
/// after another (never beside each other).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class InProcessLibtpms
{
    public const string Name = "libtpms in the test process";
}
