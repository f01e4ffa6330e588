namespace FastPath.Vtpm.Engine;

/// <summary>GetCapability (Part 3, 30.2): algorithms, handles, commands, PCR banks, TPM properties.</summary>
public sealed partial class TpmEngine
{
    /// <summary>MAX_CAP_DATA / element size for a 1024-byte MAX_CAP_BUFFER (Part 2, 10.13.2).</summary>
    private const int MaxCapHandles = 254;
    private const int MaxCapCommands = 254;
    private const int MaxCapAlgs = 169;
    private const int MaxTpmProperties = 127;

    /// <summary>(algorithm, TPMA_ALGORITHM) for what the engine implements: the four hashes and HMAC (TPM_ALG_NULL
    /// is not listed, as swtpm does not list it).</summary>
    private static ReadOnlySpan<uint> Algorithms =>
    [
        (uint)TpmConstants.AlgSha1 << 16 | 0x4,
        (uint)TpmConstants.AlgHmac << 16 | 0x104,
        (uint)TpmConstants.AlgSha256 << 16 | 0x4,
        (uint)TpmConstants.AlgSha384 << 16 | 0x4,
        (uint)TpmConstants.AlgSha512 << 16 | 0x4,
    ];

    private uint GetCapability(ref CommandContext context)
    {
        if (!context.Parameters.TryU32(out uint capability))
        {
            return Short(1);
        }

        if (!context.Parameters.TryU32(out uint property))
        {
            return Short(2);
        }

        if (!context.Parameters.TryU32(out uint count))
        {
            return Short(3);
        }

        ref TpmWriter w = ref context.Response;
        int moreDataAt = w.Position;
        w.U8(0);
        w.U32(capability);
        int countAt = w.ReserveU32();
        uint written = 0;
        bool more = false;
        switch (capability)
        {
            case TpmConstants.CapAlgs:
                foreach (uint entry in Algorithms)
                {
                    if ((entry >> 16) < property)
                    {
                        continue;
                    }

                    if (written == Math.Min(count, MaxCapAlgs))
                    {
                        more = true;
                        break;
                    }

                    w.U16((ushort)(entry >> 16));
                    w.U32(entry & 0xFFFF);
                    written++;
                }

                break;
            case TpmConstants.CapHandles:
                written = WriteHandles(ref w, property, Math.Min(count, MaxCapHandles), out more);
                break;
            case TpmConstants.CapCommands:
                foreach (CommandInfo info in CommandInfo.All)
                {
                    if (info.Code < property)
                    {
                        continue;
                    }

                    if (written == Math.Min(count, MaxCapCommands))
                    {
                        more = true;
                        break;
                    }

                    w.U32(info.Attributes);
                    written++;
                }

                break;
            case TpmConstants.CapPcrs:
                foreach (ushort bank in HashAlgorithms.Banks)
                {
                    w.U16(bank);
                    w.U8(TpmConstants.PcrSelectMin);
                    w.U8(0xFF);
                    w.U8(0xFF);
                    w.U8(0xFF);
                    written++;
                }

                break;
            case TpmConstants.CapTpmProperties:
                Span<uint> properties = stackalloc uint[2 * 96];
                int total = CollectProperties(properties);
                for (int i = 0; i < total; i++)
                {
                    if (properties[2 * i] < property)
                    {
                        continue;
                    }

                    if (written == Math.Min(count, MaxTpmProperties))
                    {
                        more = true;
                        break;
                    }

                    w.U32(properties[2 * i]);
                    w.U32(properties[(2 * i) + 1]);
                    written++;
                }

                break;
            case TpmConstants.CapPcrProperties:
            case TpmConstants.CapEccCurves:
            case TpmConstants.CapPpCommands:
            case TpmConstants.CapAuditCommands:
                break;
            default:
                return TpmRc.P(TpmRc.Value, 1);
        }

        w.PatchU32(countAt, written);
        if (more)
        {
            _parameters[moreDataAt] = 1;
        }

        return TpmRc.Success;
    }

    private uint WriteHandles(ref TpmWriter w, uint property, uint limit, out bool more)
    {
        more = false;
        uint written = 0;
        Span<uint> candidates = stackalloc uint[MaxActiveSessions + 8];
        int n = 0;
        switch ((byte)(property >> 24))
        {
            case TpmConstants.HtNvIndex:
                foreach (uint handle in _nv.Keys)
                {
                    if (handle < property)
                    {
                        continue;
                    }

                    if (written == limit)
                    {
                        more = true;
                        break;
                    }

                    w.U32(handle);
                    written++;
                }

                return written;
            case TpmConstants.HtPcr:
                for (uint pcr = 0; pcr < TpmConstants.PcrCount; pcr++)
                {
                    candidates[n++] = pcr;
                }

                break;
            case TpmConstants.HtHmacSession:
            case TpmConstants.HtPolicySession:
                // TPM_HT_LOADED_SESSION (0x02) lists loaded sessions, TPM_HT_SAVED_SESSION (0x03) saved ones.
                bool saved = (byte)(property >> 24) == TpmConstants.HtPolicySession;
                foreach (AuthSession? session in _sessions)
                {
                    if (session is not null && session.Saved == saved)
                    {
                        candidates[n++] = session.Handle;
                    }
                }

                candidates[..n].Sort();
                break;
            case TpmConstants.HtPermanent:
                candidates[n++] = TpmConstants.RhOwner;
                candidates[n++] = TpmConstants.RhNull;
                candidates[n++] = TpmConstants.RsPw;
                candidates[n++] = TpmConstants.RhLockout;
                candidates[n++] = TpmConstants.RhEndorsement;
                candidates[n++] = TpmConstants.RhPlatform;
                break;
            case TpmConstants.HtTransient:
                foreach (HashSequence? sequence in _objects)
                {
                    if (sequence is not null)
                    {
                        candidates[n++] = sequence.Handle;
                    }
                }

                break;
            default:
                // Persistent objects belong to the second command set: the list is empty.
                break;
        }

        foreach (uint handle in candidates[..n])
        {
            if (handle < property)
            {
                continue;
            }

            if (written == limit)
            {
                more = true;
                break;
            }

            w.U32(handle);
            written++;
        }

        return written;
    }

    /// <summary>Fills (property, value) pairs sorted by property; returns how many.</summary>
    private int CollectProperties(Span<uint> pairs)
    {
        int n = 0;
        void Add(Span<uint> p, uint property, uint value)
        {
            p[2 * n] = property;
            p[(2 * n) + 1] = value;
            n++;
        }

        int nvCounters = 0;
        foreach (NvIndex index in _nv.Values)
        {
            if (index.Type == TpmConstants.NtCounter)
            {
                nvCounters++;
            }
        }

        int loadedObjects = 0;
        foreach (HashSequence? sequence in _objects)
        {
            loadedObjects += sequence is null ? 0 : 1;
        }

        int activeSessions = 0;
        foreach (AuthSession? session in _sessions)
        {
            activeSessions += session is null ? 0 : 1;
        }

        uint commands = (uint)CommandInfo.All.Length;
        Add(pairs, 0x100, 0x322E3000); // TPM_PT_FAMILY_INDICATOR "2.0"
        Add(pairs, 0x101, 0); // LEVEL
        Add(pairs, 0x102, 159); // REVISION 1.59
        Add(pairs, 0x103, 329); // DAY_OF_YEAR
        Add(pairs, 0x104, 2026); // YEAR
        Add(pairs, 0x105, 0x46505448); // MANUFACTURER "FPTH"
        Add(pairs, 0x106, 0x46617374); // VENDOR_STRING_1 "Fast"
        Add(pairs, 0x107, 0x50617468); // VENDOR_STRING_2 "Path"
        Add(pairs, 0x108, 0x20765450); // VENDOR_STRING_3 " vTP"
        Add(pairs, 0x109, 0x4D000000); // VENDOR_STRING_4 "M"
        Add(pairs, 0x10A, 1); // VENDOR_TPM_TYPE
        Add(pairs, 0x10B, 0x00000001); // FIRMWARE_VERSION_1
        Add(pairs, 0x10C, 0); // FIRMWARE_VERSION_2
        Add(pairs, 0x10D, TpmConstants.MaxBuffer); // INPUT_BUFFER
        Add(pairs, 0x10E, MaxLoadedObjects); // HR_TRANSIENT_MIN
        Add(pairs, 0x10F, 7); // HR_PERSISTENT_MIN
        Add(pairs, 0x110, MaxLoadedSessions); // HR_LOADED_MIN
        Add(pairs, 0x111, MaxActiveSessions); // ACTIVE_SESSIONS_MAX
        Add(pairs, 0x112, TpmConstants.PcrCount); // PCR_COUNT
        Add(pairs, 0x113, TpmConstants.PcrSelectMin); // PCR_SELECT_MIN
        Add(pairs, 0x114, 0xFFFF); // CONTEXT_GAP_MAX
        Add(pairs, 0x116, 0); // NV_COUNTERS_MAX (no separate limit)
        Add(pairs, 0x117, MaxNvIndexSize); // NV_INDEX_MAX
        Add(pairs, 0x118, 6); // MEMORY: shared RAM and NV for objects
        Add(pairs, 0x119, 0x1000); // CLOCK_UPDATE
        Add(pairs, 0x11A, TpmConstants.AlgSha256); // CONTEXT_HASH
        Add(pairs, 0x11B, TpmConstants.AlgNull); // CONTEXT_SYM: contexts are integrity-protected, not encrypted
        Add(pairs, 0x11C, 0); // CONTEXT_SYM_SIZE
        Add(pairs, 0x11D, 0xFF); // ORDERLY_COUNT
        Add(pairs, 0x11E, TpmConstants.MaxCommandSize); // MAX_COMMAND_SIZE
        Add(pairs, 0x11F, TpmConstants.MaxResponseSize); // MAX_RESPONSE_SIZE
        Add(pairs, 0x120, HashAlgorithms.MaxDigestSize); // MAX_DIGEST
        Add(pairs, 0x121, 0); // MAX_OBJECT_CONTEXT: objects cannot be saved
        Add(pairs, 0x122, 256); // MAX_SESSION_CONTEXT
        Add(pairs, 0x123, 1); // PS_FAMILY_INDICATOR: PC Client
        Add(pairs, 0x124, 0); // PS_LEVEL
        Add(pairs, 0x125, 0x100); // PS_REVISION
        Add(pairs, 0x126, 0); // PS_DAY_OF_YEAR
        Add(pairs, 0x127, 0); // PS_YEAR
        Add(pairs, 0x128, 0); // SPLIT_MAX: no ECDAA
        Add(pairs, 0x129, commands); // TOTAL_COMMANDS
        Add(pairs, 0x12A, commands); // LIBRARY_COMMANDS
        Add(pairs, 0x12B, 0); // VENDOR_COMMANDS
        Add(pairs, 0x12C, TpmConstants.NvBufferMax); // NV_BUFFER_MAX
        Add(pairs, 0x12D, 0); // MODES
        uint permanent = (_ownerAuth.Length != 0 ? 1u : 0) | (_endorsementAuth.Length != 0 ? 2u : 0) | (_lockoutAuth.Length != 0 ? 4u : 0)
            | (_disableClear ? 1u << 8 : 0) | (1u << 10);
        Add(pairs, 0x200, permanent); // PERMANENT
        Add(pairs, 0x201, 0x8000000F); // STARTUP_CLEAR: all hierarchies enabled, orderly
        Add(pairs, 0x202, (uint)_nv.Count); // HR_NV_INDEX
        Add(pairs, 0x203, (uint)loadedObjects); // HR_LOADED
        Add(pairs, 0x204, (uint)(MaxLoadedObjects - loadedObjects)); // HR_LOADED_AVAIL
        Add(pairs, 0x205, (uint)activeSessions); // HR_ACTIVE
        Add(pairs, 0x206, (uint)(MaxActiveSessions - activeSessions)); // HR_ACTIVE_AVAIL
        Add(pairs, 0x207, (uint)(MaxLoadedObjects - loadedObjects)); // HR_TRANSIENT_AVAIL
        Add(pairs, 0x208, 0); // HR_PERSISTENT
        Add(pairs, 0x209, 0); // HR_PERSISTENT_AVAIL
        Add(pairs, 0x20A, (uint)nvCounters); // NV_COUNTERS
        Add(pairs, 0x20B, (uint)(MaxNvIndices - _nv.Count)); // NV_COUNTERS_AVAIL
        Add(pairs, 0x20C, 0); // ALGORITHM_SET
        Add(pairs, 0x20D, 0); // LOADED_CURVES
        Add(pairs, 0x20E, _failedTries); // LOCKOUT_COUNTER
        Add(pairs, 0x20F, MaxAuthFail); // MAX_AUTH_FAIL
        Add(pairs, 0x210, 1000); // LOCKOUT_INTERVAL
        Add(pairs, 0x211, 1000); // LOCKOUT_RECOVERY
        Add(pairs, 0x212, 0); // NV_WRITE_RECOVERY
        Add(pairs, 0x213, 0); // AUDIT_COUNTER_0
        Add(pairs, 0x214, 0); // AUDIT_COUNTER_1
        return n;
    }
}
