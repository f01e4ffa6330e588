namespace FastPath.Vtpm.Engine;

/// <summary>A hash or event sequence object from HashSequenceStart; lives in a transient object slot and is part
/// of the full-state blob (its running hashes are <see cref="RunningHash"/>, whose state exports exactly).</summary>
/// <remarks>Owned by the engine; touched only by the executing thread.</remarks>
internal sealed class HashSequence
{
    public required uint Handle { get; init; }

    /// <summary>The hash algorithm, or TPM_ALG_NULL for an event sequence (every PCR bank at once).</summary>
    public required ushort Alg { get; init; }

    public required byte[] Auth { get; init; }

    /// <summary>One running hash, or one per PCR bank in <see cref="HashAlgorithms.Banks"/> order for an event sequence.</summary>
    public required RunningHash[] Hashes { get; init; }

    /// <summary>The first bytes seen, kept to tell whether the data starts with TPM_GENERATED_VALUE (no ticket then).</summary>
    public byte[] FirstBytes { get; set; } = [];

    /// <summary>The algorithm of each running hash: the sequence's own, or the PCR banks for an event sequence.</summary>
    public static ushort BankAlg(ushort alg, int index) => alg == TpmConstants.AlgNull ? HashAlgorithms.Banks[index] : alg;

    public static int BankCount(ushort alg) => alg == TpmConstants.AlgNull ? HashAlgorithms.Banks.Length : 1;
}
