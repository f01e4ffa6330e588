namespace FastPath.Vtpm.Engine;

/// <summary>What a server drives: one TPM 2.0 that executes commands, power-cycles, and exports and imports its
/// state: <see cref="LibtpmsEngine"/> (libtpms embedded in-process). The earlier managed engine is retired: it
/// failed the real-client list (no objects, no policies); state it wrote is refused by name.</summary>
/// <remarks>Not thread-safe: the owner (<see cref="Protocol.SwtpmServer"/>) calls it under one lock.</remarks>
public abstract class VtpmEngine : IDisposable
{
    /// <summary>Bytes a response buffer must hold.</summary>
    public const int ResponseBufferSize = TpmConstants.MaxResponseSize + 512;

    /// <summary>Locality of the next commands (swtpm control channel CMD_SET_LOCALITY).</summary>
    public abstract byte Locality { get; set; }

    /// <summary>Called with the cause whenever a command ended in TPM_RC_FAILURE inside the engine.</summary>
    public Action<Exception>? FailureObserved { get; set; }

    /// <summary>Power loss and power-on (swtpm CMD_INIT): volatile state is gone, Startup is needed.</summary>
    public abstract void PowerOn();

    /// <summary>Executes one command into <paramref name="response"/> (at least <see cref="ResponseBufferSize"/>
    /// bytes); returns the response length.</summary>
    public abstract int Execute(ReadOnlySpan<byte> command, Span<byte> response);

    /// <summary>The persistent state (what the store keeps; swtpm blob type 1).</summary>
    public abstract byte[] SerializePersistent();

    /// <summary>The volatile state (swtpm blob type 2).</summary>
    public abstract byte[] SerializeState();

    /// <summary>Resumes from a <see cref="SerializeState"/> blob; <see cref="InvalidDataException"/> when it does not parse.</summary>
    public abstract void RestoreState(byte[] blob);

    /// <summary>An engine holding <paramref name="persistent"/> as its NV, powered on and waiting for Startup
    /// (this one, reloaded, or a replacement: the caller uses the returned engine and disposes this one if different).</summary>
    public abstract VtpmEngine WithPersistent(byte[] persistent);

    /// <summary>A digest equal on two engines in lockstep.</summary>
    public abstract byte[] StateDigest();

    /// <summary>Whether <see cref="StateDigest"/> covers the volatile state too (then two replicas with equal
    /// digests need no state transfer).</summary>
    public abstract bool DigestCoversAllState { get; }

    public abstract void Dispose();
}
