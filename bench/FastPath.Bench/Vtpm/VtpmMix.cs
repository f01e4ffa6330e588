namespace FastPath.Bench.Vtpm;

/// <summary>A command mix: one fixed cycle of <see cref="VtpmOp"/>s that every client walks in order, each
/// client from its own starting offset (so the clients are not in phase), which makes every client's
/// sequence deterministic. The two mixes of issue 9 are defined here and nowhere else.</summary>
/// <remarks>Immutable; safe from any thread.</remarks>
internal sealed class VtpmMix
{
    /// <summary>18 reads (PCR_Read, NV_Read, GetCapability six times each) and 2 writes (one PCR_Extend, one NV_Write)
    /// in 20: 90 % reads.</summary>
    public static readonly VtpmMix ReadHeavy = new("read-heavy",
    [
        VtpmOp.PcrRead, VtpmOp.NvRead, VtpmOp.GetCapability, VtpmOp.PcrRead, VtpmOp.NvRead, VtpmOp.GetCapability,
        VtpmOp.PcrRead, VtpmOp.NvRead, VtpmOp.GetCapability, VtpmOp.PcrExtend,
        VtpmOp.PcrRead, VtpmOp.NvRead, VtpmOp.GetCapability, VtpmOp.PcrRead, VtpmOp.NvRead, VtpmOp.GetCapability,
        VtpmOp.PcrRead, VtpmOp.NvRead, VtpmOp.GetCapability, VtpmOp.NvWrite,
    ]);

    /// <summary>18 writes (PCR_Extend and NV_Write of 32 bytes, nine each, alternating) and 2 reads (one PCR_Read,
    /// one NV_Read) in 20: 90 % writes.</summary>
    public static readonly VtpmMix WriteHeavy = new("write-heavy",
    [
        VtpmOp.PcrExtend, VtpmOp.NvWrite, VtpmOp.PcrExtend, VtpmOp.NvWrite, VtpmOp.PcrExtend, VtpmOp.NvWrite,
        VtpmOp.PcrExtend, VtpmOp.NvWrite, VtpmOp.PcrExtend, VtpmOp.PcrRead,
        VtpmOp.NvWrite, VtpmOp.PcrExtend, VtpmOp.NvWrite, VtpmOp.PcrExtend, VtpmOp.NvWrite, VtpmOp.PcrExtend,
        VtpmOp.NvWrite, VtpmOp.PcrExtend, VtpmOp.NvWrite, VtpmOp.NvRead,
    ]);

    public static readonly VtpmMix[] All = [ReadHeavy, WriteHeavy];

    private VtpmMix(string name, VtpmOp[] cycle)
    {
        Name = name;
        Cycle = cycle;
    }

    public string Name { get; }

    public IReadOnlyList<VtpmOp> Cycle { get; }

    /// <summary>Where client <paramref name="client"/> starts in the cycle: 7 is prime to the cycle length 20,
    /// so up to 20 clients all start at different places.</summary>
    public int StartOffset(int client) => client * 7 % Cycle.Count;

    /// <summary>The share of reads, printed so the table says what it measured.</summary>
    public double ReadShare()
    {
        int reads = 0;
        foreach (VtpmOp op in Cycle)
        {
            reads += op is VtpmOp.PcrRead or VtpmOp.NvRead or VtpmOp.GetCapability ? 1 : 0;
        }

        return reads / (double)Cycle.Count;
    }
}
