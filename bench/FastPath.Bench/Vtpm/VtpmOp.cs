namespace FastPath.Bench.Vtpm;

/// <summary>The commands the load mixes are made of (each built once per client by <see cref="VtpmLoadClient"/>).</summary>
internal enum VtpmOp
{
    /// <summary>PCR_Read of PCR 16, SHA-256: no session (the pair classifies it READ).</summary>
    PcrRead,

    /// <summary>NV_Read of the 32-byte index with a password session (an authorization area: the pre-rewrite
    /// pair classifies every command with one as RANDOM).</summary>
    NvRead,

    /// <summary>GetCapability(TPM_PROPERTIES, FAMILY_INDICATOR): no session, READ.</summary>
    GetCapability,

    /// <summary>PCR_Extend of PCR 16 with a password session.</summary>
    PcrExtend,

    /// <summary>NV_Write of 32 changing bytes with a password session.</summary>
    NvWrite,

    /// <summary>PCR_Extend of PCR 16 authorized by the client's HMAC session (unsalted, unbound, SHA-256; nonces
    /// rolled from each response): RANDOM in the pair (nonceTPM comes from the DRBG).</summary>
    PcrExtendHmac,

    /// <summary>CreatePrimary of an ECC P-256 signing key under the owner hierarchy, then FlushContext of it (one
    /// measured operation: a client cannot keep creating transient objects).</summary>
    CreatePrimaryEcc,

    /// <summary>Sign of a 32-byte digest, ECDSA P-256 SHA-256, with the client's primary signing key.</summary>
    Sign,

    /// <summary>Quote of PCRs 0 and 7 (SHA-256) with the client's restricted ECC attestation key.</summary>
    Quote,
}
