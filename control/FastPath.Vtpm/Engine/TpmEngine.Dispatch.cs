namespace FastPath.Vtpm.Engine;

/// <summary>Command code → handler. Handlers read their parameters from <see cref="CommandContext.Parameters"/>
/// (answering TPM_RC_INSUFFICIENT/SIZE/VALUE about parameter n on bad input) and write response parameters.</summary>
public sealed partial class TpmEngine
{
    private uint Dispatch(ref CommandContext context) => context.Code switch
    {
        TpmCc.Startup => Startup(ref context),
        TpmCc.Shutdown => Shutdown(ref context),
        TpmCc.SelfTest => SelfTest(ref context),
        TpmCc.IncrementalSelfTest => IncrementalSelfTest(ref context),
        TpmCc.GetTestResult => GetTestResult(ref context),
        TpmCc.GetRandom => GetRandom(ref context),
        TpmCc.StirRandom => StirRandom(ref context),
        TpmCc.PcrExtend => PcrExtend(ref context),
        TpmCc.PcrEvent => PcrEvent(ref context),
        TpmCc.PcrRead => PcrRead(ref context),
        TpmCc.PcrReset => PcrReset(ref context),
        TpmCc.NvDefineSpace => NvDefineSpace(ref context),
        TpmCc.NvUndefineSpace => NvUndefineSpace(ref context),
        TpmCc.NvWrite => NvWrite(ref context),
        TpmCc.NvRead => NvRead(ref context),
        TpmCc.NvReadPublic => NvReadPublic(ref context),
        TpmCc.NvIncrement => NvIncrement(ref context),
        TpmCc.NvExtend => NvExtend(ref context),
        TpmCc.NvSetBits => NvSetBits(ref context),
        TpmCc.Hash => Hash(ref context),
        TpmCc.HashSequenceStart => HashSequenceStart(ref context),
        TpmCc.SequenceUpdate => SequenceUpdate(ref context),
        TpmCc.SequenceComplete => SequenceComplete(ref context),
        TpmCc.EventSequenceComplete => EventSequenceComplete(ref context),
        TpmCc.GetCapability => GetCapability(ref context),
        TpmCc.Clear => Clear(ref context),
        TpmCc.HierarchyChangeAuth => HierarchyChangeAuth(ref context),
        TpmCc.StartAuthSession => StartAuthSession(ref context),
        TpmCc.ContextSave => ContextSave(ref context),
        TpmCc.ContextLoad => ContextLoad(ref context),
        TpmCc.FlushContext => FlushContext(ref context),
        _ => TpmRc.CommandCode,
    };

    private static uint Short(int parameter) => TpmRc.P(TpmRc.Insufficient, parameter);
}
