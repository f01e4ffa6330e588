using System.Buffers.Binary;
using System.Collections.Frozen;
using FastPath.Vtpm.Engine;

namespace FastPath.Vtpm.Pair;

/// <summary>For instances in DRBG lockstep (libtpms): the commands whose result does not follow from the state
/// the pair copies, because libtpms draws from outside its DRBG (OpenSSL's generator for ECDSA and RSA-PSS
/// nonces, key generation and IVs; the platform's entropy when the DRBG is instantiated or stirred) or reports
/// the TPM clock, which each process keeps itself. Those run on the master alone and its state is handed over to
/// the slave. Every other command, RANDOM ones included (HMAC and policy nonces come from the DRBG, whose state
/// is in the copied volatile blob), runs on both and the responses are compared: a difference is a divergence,
/// repaired by a state transfer, so a command missing here costs a transfer, never a wrong answer.</summary>
/// <remarks>Immutable; safe from any thread.</remarks>
public static class LockstepClassification
{
    /// <summary>Code → reason.</summary>
    public static readonly FrozenDictionary<uint, string> Handover = new Dictionary<uint, string>
    {
        [0x144] = "Startup instantiates the DRBG from platform entropy",
        [0x146] = "StirRandom reseeds the DRBG with platform entropy",
        [0x126] = "Clear draws new seeds and proofs",
        [0x125] = "ChangePPS draws a new platform seed",
        [0x124] = "ChangeEPS draws a new endorsement seed",
        [0x153] = "Create: key generation and the private blob's IV use OpenSSL's generator",
        [0x191] = "CreateLoaded: as Create",
        [0x156] = "Import: the new private blob's IV",
        [0x150] = "ObjectChangeAuth: the new private blob's IV",
        [0x14B] = "Duplicate: a random seed",
        [0x152] = "Rewrap: a random seed",
        [0x168] = "MakeCredential: a random seed",
        [0x174] = "RSA_Encrypt: padding randomness",
        [0x163] = "ECDH_KeyGen: an ephemeral key",
        [0x18E] = "EC_Ephemeral: an ephemeral key",
        [0x18B] = "Commit: an ephemeral key",
        [0x18D] = "ZGen_2Phase: consumes a commit",
        [0x15D] = "Sign: ECDSA/RSA-PSS nonces from OpenSSL",
        [0x158] = "Quote: signature nonce and the clock in the attestation",
        [0x148] = "Certify: signature nonce and clock",
        [0x14A] = "CertifyCreation: signature nonce and clock",
        [0x184] = "NV_Certify: signature nonce and clock",
        [0x14C] = "GetTime: signature nonce and clock",
        [0x14D] = "GetSessionAuditDigest: signature nonce and clock",
        [0x133] = "GetCommandAuditDigest: signature nonce and clock",
        [0x181] = "ReadClock: the clock",
        [0x128] = "ClockSet: the clock",
        [0x130] = "ClockRateAdjust: the clock",
    }.ToFrozenDictionary();

    /// <summary>Whether <paramref name="command"/>'s code runs on the master alone with a state hand-over.</summary>
    public static bool NeedsHandover(ReadOnlySpan<byte> command) =>
        command.Length >= TpmConstants.HeaderSize && Handover.ContainsKey(BinaryPrimitives.ReadUInt32BigEndian(command[6..]));
}
