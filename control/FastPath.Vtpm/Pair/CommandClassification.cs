using System.Buffers.Binary;
using System.Collections.Frozen;
using FastPath.Vtpm.Engine;

namespace FastPath.Vtpm.Pair;

/// <summary>The classification table: every command code the engine implements, with the reason.</summary>
/// <remarks>Immutable; safe from any thread.</remarks>
public static class CommandClassification
{
    /// <summary>TPM_ST_SESSIONS: the command carries an authorization area.</summary>
    private const ushort TagSessions = 0x8002;

    /// <summary>Code → (class, reason). READ only where nothing at all changes; when in doubt WRITE.</summary>
    public static readonly FrozenDictionary<uint, (CommandClass Class, string Reason)> Table = new Dictionary<uint, (CommandClass, string)>
    {
        [TpmCc.Startup] = (CommandClass.Random, "draws a new context key; resets or restores PCRs, sessions and restart counters"),
        [TpmCc.Shutdown] = (CommandClass.Write, "saves PCR state into NV"),
        [TpmCc.SelfTest] = (CommandClass.Write, "records the test result (when in doubt WRITE)"),
        [TpmCc.IncrementalSelfTest] = (CommandClass.Write, "records tested algorithms (when in doubt WRITE)"),
        [TpmCc.GetTestResult] = (CommandClass.Read, "reports the stored result, changes nothing"),
        [TpmCc.GetRandom] = (CommandClass.Random, "draws from the DRBG"),
        [TpmCc.StirRandom] = (CommandClass.Write, "mixes caller data into the DRBG deterministically, draws no entropy"),
        [TpmCc.PcrExtend] = (CommandClass.Write, "changes a PCR and the PCR update counter"),
        [TpmCc.PcrEvent] = (CommandClass.Write, "changes PCRs and the PCR update counter"),
        [TpmCc.PcrRead] = (CommandClass.Read, "reports PCRs and the update counter, changes nothing"),
        [TpmCc.PcrReset] = (CommandClass.Write, "changes a PCR and the PCR update counter"),
        [TpmCc.NvDefineSpace] = (CommandClass.Write, "creates an NV index"),
        [TpmCc.NvUndefineSpace] = (CommandClass.Write, "deletes an NV index"),
        [TpmCc.NvWrite] = (CommandClass.Write, "changes NV data and the written flag"),
        [TpmCc.NvRead] = (CommandClass.Read, "reports NV data; its authorization makes it RANDOM (sessions) at run time"),
        [TpmCc.NvReadPublic] = (CommandClass.Read, "reports an index's public area, changes nothing"),
        [TpmCc.NvIncrement] = (CommandClass.Write, "changes a counter and the max counter"),
        [TpmCc.NvExtend] = (CommandClass.Write, "changes NV data"),
        [TpmCc.NvSetBits] = (CommandClass.Write, "changes NV data"),
        [TpmCc.Hash] = (CommandClass.Read, "pure function of the input and the hierarchy proof (ticket), changes nothing"),
        [TpmCc.HashSequenceStart] = (CommandClass.Write, "creates a transient sequence object (a replicated handle)"),
        [TpmCc.SequenceUpdate] = (CommandClass.Write, "changes a sequence object's hash state"),
        [TpmCc.SequenceComplete] = (CommandClass.Write, "flushes the sequence object"),
        [TpmCc.EventSequenceComplete] = (CommandClass.Write, "extends PCRs and flushes the sequence object"),
        [TpmCc.GetCapability] = (CommandClass.Read, "reports properties, changes nothing"),
        [TpmCc.Clear] = (CommandClass.Random, "draws new owner and endorsement seeds and proofs"),
        [TpmCc.HierarchyChangeAuth] = (CommandClass.Write, "changes an auth value in NV"),
        [TpmCc.StartAuthSession] = (CommandClass.Random, "nonceTPM comes from the DRBG"),
        [TpmCc.ContextSave] = (CommandClass.Write, "advances the context sequence and marks the session saved"),
        [TpmCc.ContextLoad] = (CommandClass.Write, "loads a session into a slot"),
        [TpmCc.FlushContext] = (CommandClass.Write, "removes a session or object"),
    }.ToFrozenDictionary();

    /// <summary>The class of one command buffer. Any authorization area makes it RANDOM: HMAC sessions roll
    /// nonceTPM from the DRBG and every authorization (password too) can count a dictionary-attack failure.
    /// A code not in the table (the engine answers TPM_RC_COMMAND_CODE) or a malformed header is WRITE, so
    /// both instances answer it and stay in the same order.</summary>
    public static CommandClass Classify(ReadOnlySpan<byte> command)
    {
        if (command.Length < TpmConstants.HeaderSize)
        {
            return CommandClass.Write;
        }

        ushort tag = BinaryPrimitives.ReadUInt16BigEndian(command);
        uint code = BinaryPrimitives.ReadUInt32BigEndian(command[6..]);
        if (!Table.TryGetValue(code, out (CommandClass Class, string Reason) entry))
        {
            return CommandClass.Write;
        }

        return tag == TagSessions ? CommandClass.Random : entry.Class;
    }
}
