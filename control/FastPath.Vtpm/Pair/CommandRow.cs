namespace FastPath.Vtpm.Pair;

/// <summary>What the pair knows about one command code.</summary>
/// <param name="Code">The TPM_CC.</param>
/// <param name="Handles">Handles before the parameters (TPM 2.0 Part 3): where the authorization area starts.</param>
/// <param name="Class">How the pair runs it (read on the master, write on both, random in lockstep).</param>
/// <param name="Reason">Why that class: what the command changes or draws.</param>
/// <remarks>Immutable.</remarks>
public readonly record struct CommandRow(uint Code, int Handles, CommandClass Class, string Reason);
