namespace FastPath.Vtpm.Engine;

/// <summary>What the engine needs to know about a command before running it (Part 3 tables): how many
/// handles precede the parameters, how many of them need authorization, whether a handle is returned,
/// and the TPMA_CC flags GetCapability(COMMANDS) reports.</summary>
/// <remarks>Immutable; safe from any thread.</remarks>
internal readonly record struct CommandInfo(uint Code, int Handles, int AuthHandles, bool ResponseHandle, bool Nv, bool Extensive, bool Flushed)
{
    /// <summary>TPMA_CC (Part 2, 8.9).</summary>
    public uint Attributes =>
        (Code & 0xFFFF)
        | (Nv ? 1u << 22 : 0)
        | (Extensive ? 1u << 23 : 0)
        | (Flushed ? 1u << 24 : 0)
        | ((uint)Handles << 25)
        | (ResponseHandle ? 1u << 28 : 0);

    /// <summary>Every implemented command, sorted by code (GetCapability walks it in order).</summary>
    public static readonly CommandInfo[] All =
    [
        new(TpmCc.NvUndefineSpace, 2, 1, false, true, false, false),
        new(TpmCc.Clear, 1, 1, false, true, true, false),
        new(TpmCc.HierarchyChangeAuth, 1, 1, false, true, false, false),
        new(TpmCc.NvDefineSpace, 1, 1, false, true, false, false),
        new(TpmCc.NvIncrement, 2, 1, false, true, false, false),
        new(TpmCc.NvSetBits, 2, 1, false, true, false, false),
        new(TpmCc.NvExtend, 2, 1, false, true, false, false),
        new(TpmCc.NvWrite, 2, 1, false, true, false, false),
        new(TpmCc.PcrEvent, 1, 1, false, true, false, false),
        new(TpmCc.PcrReset, 1, 1, false, true, false, false),
        new(TpmCc.SequenceComplete, 1, 1, false, false, false, true),
        new(TpmCc.IncrementalSelfTest, 0, 0, false, true, false, false),
        new(TpmCc.SelfTest, 0, 0, false, true, false, false),
        new(TpmCc.Startup, 0, 0, false, true, false, false),
        new(TpmCc.Shutdown, 0, 0, false, true, false, false),
        new(TpmCc.StirRandom, 0, 0, false, true, false, false),
        new(TpmCc.NvRead, 2, 1, false, false, false, false),
        new(TpmCc.SequenceUpdate, 1, 1, false, false, false, false),
        new(TpmCc.ContextLoad, 0, 0, true, false, false, false),
        new(TpmCc.ContextSave, 1, 0, false, false, false, false),
        new(TpmCc.FlushContext, 0, 0, false, false, false, false),
        new(TpmCc.NvReadPublic, 1, 0, false, false, false, false),
        new(TpmCc.StartAuthSession, 2, 0, true, false, false, false),
        new(TpmCc.GetCapability, 0, 0, false, false, false, false),
        new(TpmCc.GetRandom, 0, 0, false, false, false, false),
        new(TpmCc.GetTestResult, 0, 0, false, false, false, false),
        new(TpmCc.Hash, 0, 0, false, false, false, false),
        new(TpmCc.PcrRead, 0, 0, false, false, false, false),
        new(TpmCc.PcrExtend, 1, 1, false, true, false, false),
        new(TpmCc.EventSequenceComplete, 2, 2, false, true, false, true),
        new(TpmCc.HashSequenceStart, 0, 0, true, false, false, false),
    ];

    public static bool TryFind(uint code, out CommandInfo info)
    {
        foreach (CommandInfo candidate in All)
        {
            if (candidate.Code == code)
            {
                info = candidate;
                return true;
            }
        }

        info = default;
        return false;
    }
}
