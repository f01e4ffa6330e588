namespace FastPath.Vtpm.Engine;

/// <summary>TPM 2.0 command codes (Part 2, 6.5.2) of the commands the engine implements.</summary>
/// <remarks>Immutable constants; safe from any thread.</remarks>
internal static class TpmCc
{
    public const uint NvUndefineSpace = 0x122;
    public const uint Clear = 0x126;
    public const uint HierarchyChangeAuth = 0x129;
    public const uint NvDefineSpace = 0x12A;
    public const uint NvIncrement = 0x134;
    public const uint NvSetBits = 0x135;
    public const uint NvExtend = 0x136;
    public const uint NvWrite = 0x137;
    public const uint PcrEvent = 0x13C;
    public const uint PcrReset = 0x13D;
    public const uint SequenceComplete = 0x13E;
    public const uint SelfTest = 0x143;
    public const uint Startup = 0x144;
    public const uint Shutdown = 0x145;
    public const uint StirRandom = 0x146;
    public const uint NvRead = 0x14E;
    public const uint IncrementalSelfTest = 0x142;
    public const uint SequenceUpdate = 0x15C;
    public const uint ContextLoad = 0x161;
    public const uint ContextSave = 0x162;
    public const uint FlushContext = 0x165;
    public const uint NvReadPublic = 0x169;
    public const uint StartAuthSession = 0x176;
    public const uint GetCapability = 0x17A;
    public const uint GetRandom = 0x17B;
    public const uint GetTestResult = 0x17C;
    public const uint Hash = 0x17D;
    public const uint PcrRead = 0x17E;
    public const uint PcrExtend = 0x182;
    public const uint EventSequenceComplete = 0x185;
    public const uint HashSequenceStart = 0x186;
}
