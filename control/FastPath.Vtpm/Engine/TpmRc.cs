namespace FastPath.Vtpm.Engine;

/// <summary>TPM 2.0 response codes (Part 2, 6.6) the engine returns; format-one codes are combined with a
/// parameter, handle or session number by <see cref="P"/>, <see cref="H"/> and <see cref="S"/>.</summary>
/// <remarks>Immutable constants; safe from any thread.</remarks>
internal static class TpmRc
{
    public const uint Success = 0x000;
    public const uint BadTag = 0x01E;

    // Format zero (RC_VER1 = 0x100).
    public const uint Initialize = 0x100;
    public const uint Failure = 0x101;
    public const uint Sequence = 0x103;
    public const uint Disabled = 0x120;
    public const uint Exclusive = 0x121;
    public const uint AuthType = 0x124;
    public const uint AuthMissing = 0x125;
    public const uint Policy = 0x126;
    public const uint Pcr = 0x127;
    public const uint PcrChanged = 0x128;
    public const uint Upgrade = 0x12D;
    public const uint TooManyContexts = 0x12E;
    public const uint AuthUnavailable = 0x12F;
    public const uint Reboot = 0x130;
    public const uint Unbalanced = 0x131;
    public const uint CommandSize = 0x142;
    public const uint CommandCode = 0x143;
    public const uint AuthSize = 0x144;
    public const uint AuthContext = 0x145;
    public const uint NvRange = 0x146;
    public const uint NvSize = 0x147;
    public const uint NvLocked = 0x148;
    public const uint NvAuthorization = 0x149;
    public const uint NvUninitialized = 0x14A;
    public const uint NvSpace = 0x14B;
    public const uint NvDefined = 0x14C;
    public const uint BadContext = 0x150;
    public const uint CpHash = 0x151;
    public const uint Parent = 0x152;
    public const uint NeedsTest = 0x153;
    public const uint NoResult = 0x154;
    public const uint Sensitive = 0x155;

    // Format one (RC_FMT1 = 0x080): add a parameter (0x040 | n<<8), handle (n<<8) or session (0x800 | n<<8) number.
    public const uint Asymmetric = 0x081;
    public const uint Attributes = 0x082;
    public const uint Hash = 0x083;
    public const uint Value = 0x084;
    public const uint Hierarchy = 0x085;
    public const uint KeySize = 0x087;
    public const uint Mgf = 0x088;
    public const uint Mode = 0x089;
    public const uint Type = 0x08A;
    public const uint Handle = 0x08B;
    public const uint Kdf = 0x08C;
    public const uint Range = 0x08D;
    public const uint AuthFail = 0x08E;
    public const uint Nonce = 0x08F;
    public const uint Pp = 0x090;
    public const uint Scheme = 0x092;
    public const uint Size = 0x095;
    public const uint Symmetric = 0x096;
    public const uint Tag = 0x097;
    public const uint Selector = 0x098;
    public const uint Insufficient = 0x09A;
    public const uint Signature = 0x09B;
    public const uint Key = 0x09C;
    public const uint PolicyFail = 0x09D;
    public const uint Integrity = 0x09F;
    public const uint Ticket = 0x0A0;
    public const uint ReservedBits = 0x0A1;
    public const uint BadAuth = 0x0A2;
    public const uint Expired = 0x0A3;
    public const uint PolicyCc = 0x0A4;
    public const uint Binding = 0x0A5;
    public const uint Curve = 0x0A6;

    // Warnings (RC_WARN = 0x900).
    public const uint ContextGap = 0x901;
    public const uint ObjectMemory = 0x902;
    public const uint SessionMemory = 0x903;
    public const uint Memory = 0x904;
    public const uint SessionHandles = 0x905;
    public const uint ObjectHandles = 0x906;
    public const uint Locality = 0x907;
    public const uint Yielded = 0x908;
    public const uint Canceled = 0x909;
    public const uint Testing = 0x90A;
    public const uint ReferenceH0 = 0x910;
    public const uint ReferenceS0 = 0x918;
    public const uint NvRate = 0x920;
    public const uint Lockout = 0x921;
    public const uint Retry = 0x922;
    public const uint NvUnavailable = 0x923;

    /// <summary>Format-one code about parameter <paramref name="n"/> (1-based).</summary>
    public static uint P(uint rc, int n) => rc | 0x040u | ((uint)n << 8);

    /// <summary>Format-one code about handle <paramref name="n"/> (1-based, at most 7).</summary>
    public static uint H(uint rc, int n) => rc | ((uint)n << 8);

    /// <summary>Format-one code about session <paramref name="n"/> (1-based, at most 7).</summary>
    public static uint S(uint rc, int n) => rc | 0x800u | ((uint)n << 8);
}
