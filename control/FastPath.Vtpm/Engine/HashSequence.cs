using System.Security.Cryptography;

namespace FastPath.Vtpm.Engine;

/// <summary>A hash or event sequence object from HashSequenceStart; lives in a transient object slot.</summary>
/// <remarks>Owned by the engine; touched only by the executing thread.</remarks>
internal sealed class HashSequence : IDisposable
{
    public required uint Handle { get; init; }

    /// <summary>The hash algorithm, or TPM_ALG_NULL for an event sequence (every PCR bank at once).</summary>
    public required ushort Alg { get; init; }

    public required byte[] Auth { get; init; }

    public required IncrementalHash[] Hashes { get; init; }

    /// <summary>The first bytes seen, kept to tell whether the data starts with TPM_GENERATED_VALUE (no ticket then).</summary>
    public byte[] FirstBytes { get; set; } = [];

    public void Dispose()
    {
        foreach (IncrementalHash hash in Hashes)
        {
            hash.Dispose();
        }
    }
}
