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

    /// <summary><see cref="ReadHeavy"/> with its PCR_Extend authorized by an HMAC session.</summary>
    public static readonly VtpmMix ReadHeavyHmac = new("read-heavy-hmac", [.. ReadHeavy.Cycle.Select(op => op == VtpmOp.PcrExtend ? VtpmOp.PcrExtendHmac : op)], maxClients: 3);

    /// <summary><see cref="WriteHeavy"/> with its nine PCR_Extends authorized by an HMAC session (libtpms keeps three
    /// sessions loaded: at most three clients).</summary>
    public static readonly VtpmMix WriteHeavyHmac = new("write-heavy-hmac", [.. WriteHeavy.Cycle.Select(op => op == VtpmOp.PcrExtend ? VtpmOp.PcrExtendHmac : op)], maxClients: 3);

    /// <summary>Single-operation mixes (libtpms holds three transient objects: at most two clients with a key each).</summary>
    public static readonly VtpmMix CreatePrimaryEcc = new("create-primary-ecc", [VtpmOp.CreatePrimaryEcc], maxClients: 2);

    public static readonly VtpmMix Sign = new("sign", [VtpmOp.Sign], maxClients: 2);

    public static readonly VtpmMix Quote = new("quote", [VtpmOp.Quote], maxClients: 2);

    /// <summary>Every mix, in the order the table prints them.</summary>
    public static readonly VtpmMix[] All = [ReadHeavy, WriteHeavy, ReadHeavyHmac, WriteHeavyHmac, CreatePrimaryEcc, Sign, Quote];

    private VtpmMix(string name, VtpmOp[] cycle, int maxClients = 64)
    {
        Name = name;
        Cycle = cycle;
        MaxClients = maxClients;
    }

    public string Name { get; }

    /// <summary>Clients beyond this would exhaust libtpms's loaded session or object slots: such cells are skipped.</summary>
    public int MaxClients { get; }

    /// <summary>Whether a client needs its HMAC session or keys before the measured loop.</summary>
    public bool NeedsSession => Cycle.Contains(VtpmOp.PcrExtendHmac);

    public bool NeedsSigningKey => Cycle.Contains(VtpmOp.Sign);

    public bool NeedsAttestationKey => Cycle.Contains(VtpmOp.Quote);

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
