namespace FastPath.Vtpm.Engine;

/// <summary>Startup/Shutdown, self test, random numbers, Clear and HierarchyChangeAuth (Part 3, 9, 10, 16, 24).</summary>
public sealed partial class TpmEngine
{
    private uint Startup(ref CommandContext context)
    {
        if (!context.Parameters.TryU16(out ushort type))
        {
            return Short(1);
        }

        if (_started)
        {
            return TpmRc.Initialize;
        }

        if (type == TpmConstants.SuState)
        {
            if (_savedPcrs is null)
            {
                return TpmRc.P(TpmRc.Value, 1);
            }

            RestorePcrs(_savedPcrs);
            _restartCount++;
        }
        else if (type == TpmConstants.SuClear)
        {
            ResetPcrs();
            _resetCount++;
            _restartCount = 0;
        }
        else
        {
            return TpmRc.P(TpmRc.Value, 1);
        }

        // The saved state is single-use: a later Startup(STATE) without a new Shutdown(STATE) must fail.
        _savedPcrs = null;
        FlushAllTransient();
        GenerateRandom(_contextKey);
        _contextSequence = 0;
        _started = true;
        _persistentDirty = true;
        return TpmRc.Success;
    }

    private uint Shutdown(ref CommandContext context)
    {
        if (!context.Parameters.TryU16(out ushort type))
        {
            return Short(1);
        }

        if (type == TpmConstants.SuState)
        {
            _savedPcrs = SerializePcrs();
        }
        else if (type == TpmConstants.SuClear)
        {
            _savedPcrs = null;
        }
        else
        {
            return TpmRc.P(TpmRc.Value, 1);
        }

        _persistentDirty = true;
        return TpmRc.Success;
    }

    private static uint SelfTest(ref CommandContext context) => context.Parameters.TryU8(out _) ? TpmRc.Success : Short(1);

    private static uint IncrementalSelfTest(ref CommandContext context)
    {
        if (!context.Parameters.TryU32(out uint count) || count > 64 || !context.Parameters.TryBytes(2 * (int)count, out _))
        {
            return Short(1);
        }

        // Every algorithm was tested at power-on (there is nothing left to do): an empty toDoList.
        context.Response.U32(0);
        return TpmRc.Success;
    }

    private static uint GetTestResult(ref CommandContext context)
    {
        context.Response.U16(0);
        context.Response.U32(TpmRc.Success);
        return TpmRc.Success;
    }

    private uint GetRandom(ref CommandContext context)
    {
        if (!context.Parameters.TryU16(out ushort requested))
        {
            return Short(1);
        }

        // At most sizeof(TPMU_HA) per call (Part 3, 16.1).
        int count = Math.Min((int)requested, HashAlgorithms.MaxDigestSize);
        Span<byte> bytes = stackalloc byte[count];
        GenerateRandom(bytes);
        context.Response.Tpm2B(bytes);
        return TpmRc.Success;
    }

    private uint StirRandom(ref CommandContext context)
    {
        uint rc = context.Parameters.Read2B(128, out ReadOnlySpan<byte> data);
        if (rc != TpmRc.Success)
        {
            return TpmRc.P(rc, 1);
        }

        // Additional input only: stirring is deterministic, so a replica stays in step without entropy.
        _drbg.Reseed([], data);
        return TpmRc.Success;
    }

    private uint Clear(ref CommandContext context)
    {
        if (context.Handle0 is not (TpmConstants.RhLockout or TpmConstants.RhPlatform))
        {
            return TpmRc.H(TpmRc.Value, 1);
        }

        if (_disableClear)
        {
            return TpmRc.Disabled;
        }

        List<uint> removed = [];
        foreach ((uint handle, NvIndex index) in _nv)
        {
            if ((index.Attributes & TpmConstants.NvPlatformCreate) == 0)
            {
                removed.Add(handle);
            }
        }

        foreach (uint handle in removed)
        {
            RemoveNvIndex(handle);
        }

        _ownerAuth = [];
        _endorsementAuth = [];
        _lockoutAuth = [];
        _ownerProof = NewRandom(64);
        _endorsementProof = NewRandom(64);
        _ownerSeed = NewRandom(64);
        _endorsementSeed = NewRandom(64);
        _failedTries = 0;
        _persistentDirty = true;
        return TpmRc.Success;
    }

    private uint HierarchyChangeAuth(ref CommandContext context)
    {
        uint rc = context.Parameters.Read2B(HashAlgorithms.MaxDigestSize, out ReadOnlySpan<byte> newAuth);
        if (rc != TpmRc.Success)
        {
            return TpmRc.P(rc, 1);
        }

        byte[] value = TrimAuth(newAuth);
        switch (context.Handle0)
        {
            case TpmConstants.RhOwner:
                _ownerAuth = value;
                break;
            case TpmConstants.RhEndorsement:
                _endorsementAuth = value;
                break;
            case TpmConstants.RhLockout:
                _lockoutAuth = value;
                break;
            case TpmConstants.RhPlatform:
                _platformAuth = value;
                break;
            default:
                return TpmRc.H(TpmRc.Value, 1);
        }

        _persistentDirty = true;
        return TpmRc.Success;
    }
}
