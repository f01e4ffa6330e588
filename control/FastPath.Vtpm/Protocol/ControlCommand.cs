namespace FastPath.Vtpm.Protocol;

/// <summary>swtpm control channel command codes (swtpm's tpm_ioctl.h, "CMD_*"), big-endian u32 on the wire.</summary>
/// <remarks>Immutable constants; safe from any thread.</remarks>
internal static class ControlCommand
{
    public const uint GetCapability = 1;
    public const uint Init = 2;
    public const uint Shutdown = 3;
    public const uint GetTpmEstablished = 4;
    public const uint SetLocality = 5;
    public const uint HashStart = 6;
    public const uint HashData = 7;
    public const uint HashEnd = 8;
    public const uint CancelTpmCommand = 9;
    public const uint StoreVolatile = 10;
    public const uint ResetTpmEstablished = 11;
    public const uint GetStateBlob = 12;
    public const uint SetStateBlob = 13;
    public const uint Stop = 14;
    public const uint GetConfig = 15;
    public const uint SetDataFd = 16;
    public const uint SetBufferSize = 17;
    public const uint GetInfo = 18;

    /// <summary>PTM_CAP_* bits of what this server answers: INIT, SHUTDOWN, GET_TPMESTABLISHED, SET_LOCALITY,
    /// CANCEL_TPM_CMD, STORE_VOLATILE, RESET_TPMESTABLISHED, GET/SET_STATEBLOB, STOP, GET_CONFIG, SET_BUFFERSIZE.</summary>
    public const uint Capabilities = 0x1 | 0x2 | 0x4 | 0x8 | 0x20 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800 | 0x2000;

    // Results (TPM 1.2 style codes, as swtpm answers them).
    public const uint ResultSuccess = 0;
    public const uint ResultBadParameter = 0x03;
    public const uint ResultDisabledCommand = 0x08;
    public const uint ResultFail = 0x09;
    public const uint ResultBadOrdinal = 0x0A;
    public const uint ResultBadLocality = 0x3D;

    // GET/SET_STATEBLOB types.
    public const byte BlobPermanent = 1;
    public const byte BlobVolatile = 2;
    public const byte BlobSaveState = 3;
}
