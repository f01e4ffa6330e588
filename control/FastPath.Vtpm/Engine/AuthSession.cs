namespace FastPath.Vtpm.Engine;

/// <summary>An HMAC, policy or trial session started by StartAuthSession: its nonces, key and hash.
/// Only unsalted, unbound sessions are created, so the session key is empty (Part 1, 19.6.8).</summary>
/// <remarks>Owned by the engine; touched only by the executing thread.</remarks>
internal sealed class AuthSession
{
    public required uint Handle { get; init; }

    public required byte SessionType { get; init; }

    public required ushort AuthHash { get; init; }

    public required ushort SymmetricAlg { get; init; }

    public required ushort SymmetricKeyBits { get; init; }

    public required ushort SymmetricMode { get; init; }

    public required byte[] NonceTpm { get; set; }

    public required byte[] NonceCaller { get; set; }

    public byte[] SessionKey { get; init; } = [];

    public required byte[] PolicyDigest { get; set; }

    /// <summary>True after ContextSave: the handle stays reserved but the session is not usable until ContextLoad.</summary>
    public bool Saved { get; set; }

    /// <summary>The ContextSave sequence number of the saved copy; ContextLoad accepts only that one.</summary>
    public ulong SavedSequence { get; set; }
}
