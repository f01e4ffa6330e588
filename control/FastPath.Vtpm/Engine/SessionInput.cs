namespace FastPath.Vtpm.Engine;

/// <summary>One entry of a command's authorization area (TPMS_AUTH_COMMAND), as offsets into the command
/// buffer so the engine's hot path allocates nothing to parse it.</summary>
/// <remarks>A stack value owned by the executing thread.</remarks>
internal struct SessionInput
{
    public uint Handle;
    public byte Attributes;
    public int NonceOffset;
    public int NonceLength;
    public int HmacOffset;
    public int HmacLength;
}
