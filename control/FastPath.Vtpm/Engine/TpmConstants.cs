namespace FastPath.Vtpm.Engine;

/// <summary>Structure tags, handle ranges, algorithm identifiers and attribute bits from TPM 2.0 Part 2.</summary>
/// <remarks>Immutable constants; safe from any thread.</remarks>
internal static class TpmConstants
{
    public const ushort StNoSessions = 0x8001;
    public const ushort StSessions = 0x8002;
    public const ushort StHashCheck = 0x8024;
    public const ushort StRspCommand = 0x00C4;

    public const int HeaderSize = 10;

    /// <summary>Largest command and response (TPM_PT_MAX_COMMAND_SIZE/MAX_RESPONSE_SIZE), as swtpm reports.</summary>
    public const int MaxCommandSize = 4096;
    public const int MaxResponseSize = 4096;

    /// <summary>TPM_PT_NV_BUFFER_MAX: the largest NV_Read/NV_Write chunk, as swtpm reports.</summary>
    public const int NvBufferMax = 1024;

    /// <summary>TPM_PT_INPUT_BUFFER: the largest TPM2B_MAX_BUFFER (Hash, SequenceUpdate, PCR_Event data).</summary>
    public const int MaxBuffer = 1024;

    public const int PcrCount = 24;
    public const int PcrSelectMin = 3;

    // Handle types (the top byte of a handle).
    public const byte HtPcr = 0x00;
    public const byte HtNvIndex = 0x01;
    public const byte HtHmacSession = 0x02;
    public const byte HtPolicySession = 0x03;
    public const byte HtPermanent = 0x40;
    public const byte HtTransient = 0x80;
    public const byte HtPersistent = 0x81;

    public const uint RhOwner = 0x40000001;
    public const uint RhNull = 0x40000007;
    public const uint RsPw = 0x40000009;
    public const uint RhLockout = 0x4000000A;
    public const uint RhEndorsement = 0x4000000B;
    public const uint RhPlatform = 0x4000000C;

    public const uint TransientFirst = 0x80000000;
    public const uint HmacSessionFirst = 0x02000000;
    public const uint PolicySessionFirst = 0x03000000;
    public const uint NvIndexFirst = 0x01000000;
    public const uint PersistentFirst = 0x81000000;

    // Algorithms.
    public const ushort AlgRsa = 0x0001;
    public const ushort AlgSha1 = 0x0004;
    public const ushort AlgHmac = 0x0005;
    public const ushort AlgAes = 0x0006;
    public const ushort AlgKeyedHash = 0x0008;
    public const ushort AlgXor = 0x000A;
    public const ushort AlgSha256 = 0x000B;
    public const ushort AlgSha384 = 0x000C;
    public const ushort AlgSha512 = 0x000D;
    public const ushort AlgNull = 0x0010;
    public const ushort AlgCfb = 0x0043;

    // Session types and attributes.
    public const byte SeHmac = 0x00;
    public const byte SePolicy = 0x01;
    public const byte SeTrial = 0x03;
    public const byte SessionContinue = 0x01;
    public const byte SessionAuditExclusive = 0x02;
    public const byte SessionAuditReset = 0x04;
    public const byte SessionDecrypt = 0x20;
    public const byte SessionEncrypt = 0x40;
    public const byte SessionAudit = 0x80;

    // TPMA_NV bits.
    public const uint NvPpWrite = 1u << 0;
    public const uint NvOwnerWrite = 1u << 1;
    public const uint NvAuthWrite = 1u << 2;
    public const uint NvPolicyWrite = 1u << 3;
    public const uint NvTypeMask = 0xF0;
    public const uint NvPolicyDelete = 1u << 10;
    public const uint NvWriteLocked = 1u << 11;
    public const uint NvWriteAll = 1u << 12;
    public const uint NvWriteDefine = 1u << 13;
    public const uint NvWriteStClear = 1u << 14;
    public const uint NvGlobalLock = 1u << 15;
    public const uint NvPpRead = 1u << 16;
    public const uint NvOwnerRead = 1u << 17;
    public const uint NvAuthRead = 1u << 18;
    public const uint NvPolicyRead = 1u << 19;
    public const uint NvNoDa = 1u << 25;
    public const uint NvOrderly = 1u << 26;
    public const uint NvClearStClear = 1u << 27;
    public const uint NvReadLocked = 1u << 28;
    public const uint NvWritten = 1u << 29;
    public const uint NvPlatformCreate = 1u << 30;
    public const uint NvReadStClear = 1u << 31;

    // TPM_NT values (bits 4..7 of TPMA_NV).
    public const uint NtOrdinary = 0;
    public const uint NtCounter = 1;
    public const uint NtBits = 2;
    public const uint NtExtend = 4;
    public const uint NtPinPass = 8;
    public const uint NtPinFail = 9;

    // TPM_SU.
    public const ushort SuClear = 0;
    public const ushort SuState = 1;

    // TPM_CAP.
    public const uint CapAlgs = 0;
    public const uint CapHandles = 1;
    public const uint CapCommands = 2;
    public const uint CapPpCommands = 3;
    public const uint CapAuditCommands = 4;
    public const uint CapPcrs = 5;
    public const uint CapTpmProperties = 6;
    public const uint CapPcrProperties = 7;
    public const uint CapEccCurves = 8;
}
