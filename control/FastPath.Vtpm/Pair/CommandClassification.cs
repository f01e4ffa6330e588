using System.Buffers.Binary;
using System.Collections.Frozen;
using FastPath.Vtpm.Engine;

namespace FastPath.Vtpm.Pair;

/// <summary>The pair's classification table (one row per command: handles, class, reason) and how a command buffer is classified.</summary>
/// <remarks>Immutable; safe from any thread.</remarks>
public static class CommandClassification
{
    /// <summary>TPM_ST_SESSIONS: the command carries an authorization area.</summary>
    private const ushort TagSessions = 0x8002;

    /// <summary>One row per command the pair knows: its handle count (where the authorization area starts), its
    /// class, and why. READ only where nothing at all changes; when in doubt WRITE. A code not here is WRITE.</summary>
    public static readonly CommandRow[] Rows =
    [
        new(TpmCc.Startup, Handles: 0, CommandClass.Random, "draws a new context key; resets or restores PCRs, sessions and restart counters"),
        new(TpmCc.Shutdown, Handles: 0, CommandClass.Write, "saves PCR state into NV"),
        new(TpmCc.SelfTest, Handles: 0, CommandClass.Write, "records the test result (when in doubt WRITE)"),
        new(TpmCc.IncrementalSelfTest, Handles: 0, CommandClass.Write, "records tested algorithms (when in doubt WRITE)"),
        new(TpmCc.GetTestResult, Handles: 0, CommandClass.Read, "reports the stored result, changes nothing"),
        new(TpmCc.GetRandom, Handles: 0, CommandClass.Random, "draws from the DRBG"),
        new(TpmCc.StirRandom, Handles: 0, CommandClass.Write, "mixes caller data into the DRBG deterministically, draws no entropy"),
        new(TpmCc.PcrExtend, Handles: 1, CommandClass.Write, "changes a PCR and the PCR update counter"),
        new(TpmCc.PcrEvent, Handles: 1, CommandClass.Write, "changes PCRs and the PCR update counter"),
        new(TpmCc.PcrRead, Handles: 0, CommandClass.Read, "reports PCRs and the update counter, changes nothing"),
        new(TpmCc.PcrReset, Handles: 1, CommandClass.Write, "changes a PCR and the PCR update counter"),
        new(TpmCc.NvDefineSpace, Handles: 1, CommandClass.Write, "creates an NV index"),
        new(TpmCc.NvUndefineSpace, Handles: 2, CommandClass.Write, "deletes an NV index"),
        new(TpmCc.NvWrite, Handles: 2, CommandClass.Write, "changes NV data and the written flag"),
        new(TpmCc.NvRead, Handles: 2, CommandClass.Read, "reports NV data; an HMAC session makes it RANDOM at run time, a failed password is copied to the slave"),
        new(TpmCc.NvReadPublic, Handles: 1, CommandClass.Read, "reports an index's public area, changes nothing"),
        new(TpmCc.NvIncrement, Handles: 2, CommandClass.Write, "changes a counter and the max counter"),
        new(TpmCc.NvExtend, Handles: 2, CommandClass.Write, "changes NV data"),
        new(TpmCc.NvSetBits, Handles: 2, CommandClass.Write, "changes NV data"),
        new(TpmCc.Hash, Handles: 0, CommandClass.Read, "pure function of the input and the hierarchy proof (ticket), changes nothing"),
        new(TpmCc.HashSequenceStart, Handles: 0, CommandClass.Write, "creates a transient sequence object (a replicated handle)"),
        new(TpmCc.SequenceUpdate, Handles: 1, CommandClass.Write, "changes a sequence object's hash state"),
        new(TpmCc.SequenceComplete, Handles: 1, CommandClass.Write, "flushes the sequence object"),
        new(TpmCc.EventSequenceComplete, Handles: 2, CommandClass.Write, "extends PCRs and flushes the sequence object"),
        new(TpmCc.GetCapability, Handles: 0, CommandClass.Read, "reports properties, changes nothing"),
        new(TpmCc.Clear, Handles: 1, CommandClass.Random, "draws new owner and endorsement seeds and proofs"),
        new(TpmCc.HierarchyChangeAuth, Handles: 1, CommandClass.Write, "changes an auth value in NV"),
        new(TpmCc.StartAuthSession, Handles: 2, CommandClass.Random, "nonceTPM comes from the DRBG"),
        new(TpmCc.ContextSave, Handles: 1, CommandClass.Write, "advances the context sequence and marks the session saved"),
        new(TpmCc.ContextLoad, Handles: 0, CommandClass.Write, "loads a session into a slot"),
        new(TpmCc.FlushContext, Handles: 0, CommandClass.Write, "removes a session or object"),
    ];

    /// <summary><see cref="Rows"/> by command code.</summary>
    public static readonly FrozenDictionary<uint, CommandRow> Table = Rows.ToFrozenDictionary(row => row.Code);

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
        if (!Table.TryGetValue(code, out CommandRow row))
        {
            return CommandClass.Write;
        }

        return tag == TagSessions && !PasswordsOnly(command, row.Handles) ? CommandClass.Random : row.Class;
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
    private static bool PasswordsOnly(ReadOnlySpan<byte> command, int handles)
    {
        int offset = TpmConstants.HeaderSize + (4 * handles);
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
