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
        [TpmCc.NvRead] = (CommandClass.Read, "reports NV data; an HMAC session makes it RANDOM at run time, a failed password is copied to the slave"),
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

    /// <summary>The class of one command buffer. An authorization area with any session other than a password
    /// (TPM_RS_PW) makes it RANDOM: HMAC and policy sessions roll nonceTPM from the DRBG. Password authorizations
    /// draw nothing, so such a command keeps its table class; the one state change a password can cause — a
    /// failed authorization counted toward dictionary-attack lockout — is caught from the response
    /// (<see cref="CountsAgainstLockout"/>) and copied to the slave. A code not in the table (the engine answers
    /// TPM_RC_COMMAND_CODE) or a malformed header is WRITE, so both instances answer it and stay in the same order;
    /// an authorization area that does not parse is RANDOM.</summary>
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

        return tag == TagSessions && !PasswordsOnly(command, code) ? CommandClass.Random : entry.Class;
    }

    /// <summary>Whether a response code is TPM_RC_AUTH_FAIL (any session number): the instance that ran the
    /// command counted a dictionary-attack failure, a state change a READ made on the master only.</summary>
    public static bool CountsAgainstLockout(uint responseCode) =>
        (responseCode & 0x80) != 0 && (responseCode & 0x3F) == (TpmRc.AuthFail & 0x3F);

    /// <summary>Whether a READ answered with <paramref name="responseCode"/> may have changed the instance's state:
    /// a counted authorization failure, or TPM_RC_RETRY, which libtpms answers to the first failure on a
    /// lockout-protected entity while it records in NV that it is no longer orderly. The pair copies the master's
    /// state to the slave then.</summary>
    public static bool MayHaveChangedState(uint responseCode) => CountsAgainstLockout(responseCode) || responseCode == TpmRc.Retry;

    /// <summary>Every session in the authorization area is TPM_RS_PW (parsed with the command's handle count).</summary>
    private static bool PasswordsOnly(ReadOnlySpan<byte> command, uint code)
    {
        if (!CommandInfo.TryFind(code, out CommandInfo info))
        {
            return false;
        }

        int offset = TpmConstants.HeaderSize + (4 * info.Handles);
        if (command.Length < offset + 4)
        {
            return false;
        }

        uint authSize = BinaryPrimitives.ReadUInt32BigEndian(command[offset..]);
        offset += 4;
        if (authSize == 0 || authSize > (uint)(command.Length - offset))
        {
            return false;
        }

        ReadOnlySpan<byte> area = command.Slice(offset, (int)authSize);
        while (!area.IsEmpty)
        {
            // handle, nonce (TPM2B), attributes, hmac (TPM2B)
            if (area.Length < 4 + 2 || BinaryPrimitives.ReadUInt32BigEndian(area) != TpmConstants.RsPw)
            {
                return false;
            }

            int nonce = BinaryPrimitives.ReadUInt16BigEndian(area[4..]);
            int at = 6 + nonce + 1;
            if (area.Length < at + 2)
            {
                return false;
            }

            int hmac = BinaryPrimitives.ReadUInt16BigEndian(area[at..]);
            at += 2 + hmac;
            if (area.Length < at)
            {
                return false;
            }

            area = area[at..];
        }

        return true;
    }
}
