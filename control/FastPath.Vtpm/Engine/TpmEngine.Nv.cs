using System.Buffers.Binary;

namespace FastPath.Vtpm.Engine;

/// <summary>NV indices: ordinary, counter, bit field and extend (Part 3, 31).</summary>
public sealed partial class TpmEngine
{
    /// <summary>MAX_NV_INDEX_SIZE and the index count limit of this implementation.</summary>
    private const int MaxNvIndexSize = 2048;
    private const int MaxNvIndices = 64;

    private uint NvDefineSpace(ref CommandContext context)
    {
        if (context.Handle0 is not (TpmConstants.RhOwner or TpmConstants.RhPlatform))
        {
            return TpmRc.H(TpmRc.Value, 1);
        }

        uint rc = context.Parameters.Read2B(HashAlgorithms.MaxDigestSize, out ReadOnlySpan<byte> auth);
        if (rc != TpmRc.Success)
        {
            return TpmRc.P(rc, 1);
        }

        rc = context.Parameters.Read2B(TpmConstants.MaxCommandSize, out ReadOnlySpan<byte> publicBytes);
        if (rc != TpmRc.Success)
        {
            return TpmRc.P(rc, 2);
        }

        var reader = new TpmReader(publicBytes);
        if (!reader.TryU32(out uint handle) || !reader.TryU16(out ushort nameAlg) || !reader.TryU32(out uint attributes))
        {
            return Short(2);
        }

        rc = reader.Read2B(HashAlgorithms.MaxDigestSize, out ReadOnlySpan<byte> authPolicy);
        if (rc != TpmRc.Success)
        {
            return TpmRc.P(rc, 2);
        }

        if (!reader.TryU16(out ushort dataSize))
        {
            return Short(2);
        }

        if (reader.Remaining != 0)
        {
            return TpmRc.P(TpmRc.Size, 2);
        }

        if ((byte)(handle >> 24) != TpmConstants.HtNvIndex)
        {
            return TpmRc.P(TpmRc.Value, 2);
        }

        int digestSize = HashAlgorithms.DigestSize(nameAlg);
        if (digestSize == 0)
        {
            return TpmRc.P(TpmRc.Hash, 2);
        }

        if (auth.Length > digestSize)
        {
            return TpmRc.P(TpmRc.Size, 1);
        }

        uint type = (attributes & TpmConstants.NvTypeMask) >> 4;
        const uint readAny = TpmConstants.NvPpRead | TpmConstants.NvOwnerRead | TpmConstants.NvAuthRead | TpmConstants.NvPolicyRead;
        const uint writeAny = TpmConstants.NvPpWrite | TpmConstants.NvOwnerWrite | TpmConstants.NvAuthWrite | TpmConstants.NvPolicyWrite;
        const uint stateBits = TpmConstants.NvWritten | TpmConstants.NvReadLocked | TpmConstants.NvWriteLocked;
        bool platform = context.Handle0 == TpmConstants.RhPlatform;
        if ((attributes & readAny) == 0 || (attributes & writeAny) == 0 || (attributes & stateBits) != 0
            || ((attributes & TpmConstants.NvPlatformCreate) != 0) != platform
            || type is not (TpmConstants.NtOrdinary or TpmConstants.NtCounter or TpmConstants.NtBits or TpmConstants.NtExtend)
            || ((attributes & TpmConstants.NvPolicyDelete) != 0 && !platform))
        {
            return TpmRc.P(TpmRc.Attributes, 2);
        }

        if (dataSize > MaxNvIndexSize
            || (type is TpmConstants.NtCounter or TpmConstants.NtBits && dataSize != 8)
            || (type == TpmConstants.NtExtend && dataSize != digestSize))
        {
            return TpmRc.P(TpmRc.Size, 2);
        }

        if (_nv.ContainsKey(handle))
        {
            return TpmRc.NvDefined;
        }

        if (_nv.Count >= MaxNvIndices)
        {
            return TpmRc.NvSpace;
        }

        _nv[handle] = new NvIndex
        {
            Handle = handle,
            NameAlg = nameAlg,
            Attributes = attributes,
            AuthPolicy = authPolicy.ToArray(),
            DataSize = dataSize,
            Auth = TrimAuth(auth),
            Data = NewIndexData(type, dataSize),
        };
        _persistentDirty = true;
        return TpmRc.Success;
    }

    /// <summary>Unwritten ordinary indices read back as 0xFF (erased flash, as the reference implementation
    /// and swtpm do); extend indices start from zeros, the initial value of an extend chain.</summary>
    private static byte[] NewIndexData(uint type, ushort size)
    {
        byte[] data = new byte[size];
        if (type == TpmConstants.NtOrdinary)
        {
            data.AsSpan().Fill(0xFF);
        }

        return data;
    }

    private uint NvUndefineSpace(ref CommandContext context)
    {
        if (context.Handle0 is not (TpmConstants.RhOwner or TpmConstants.RhPlatform))
        {
            return TpmRc.H(TpmRc.Value, 1);
        }

        if (!_nv.TryGetValue(context.Handle1, out NvIndex? index))
        {
            return TpmRc.H(TpmRc.Handle, 2);
        }

        if ((index.Attributes & TpmConstants.NvPolicyDelete) != 0)
        {
            return TpmRc.H(TpmRc.Attributes, 2);
        }

        if ((index.Attributes & TpmConstants.NvPlatformCreate) != 0 && context.Handle0 != TpmConstants.RhPlatform)
        {
            return TpmRc.NvAuthorization;
        }

        RemoveNvIndex(context.Handle1);
        _persistentDirty = true;
        return TpmRc.Success;
    }

    private void RemoveNvIndex(uint handle)
    {
        // Counters never go backwards, not even across undefine/define (Part 1, 37.4.3.3): remember the
        // highest value a deleted counter held; a new counter starts above it.
        if (_nv.Remove(handle, out NvIndex? index) && index.Type == TpmConstants.NtCounter && index.Written)
        {
            _maxCounter = Math.Max(_maxCounter, BinaryPrimitives.ReadUInt64BigEndian(index.Data));
        }
    }

    /// <summary>Part 3, 31.3.2/31.3.3: which authorization handle may write or read an index.</summary>
    private static uint CheckNvAccess(NvIndex index, uint authHandle, bool write)
    {
        uint owner = write ? TpmConstants.NvOwnerWrite : TpmConstants.NvOwnerRead;
        uint platform = write ? TpmConstants.NvPpWrite : TpmConstants.NvPpRead;
        uint auth = write ? TpmConstants.NvAuthWrite : TpmConstants.NvAuthRead;
        uint locked = write ? TpmConstants.NvWriteLocked : TpmConstants.NvReadLocked;
        if ((index.Attributes & locked) != 0)
        {
            return TpmRc.NvLocked;
        }

        bool allowed = authHandle switch
        {
            TpmConstants.RhOwner => (index.Attributes & owner) != 0,
            TpmConstants.RhPlatform => (index.Attributes & platform) != 0,
            _ => authHandle == index.Handle && (index.Attributes & auth) != 0,
        };
        return allowed ? TpmRc.Success : TpmRc.NvAuthorization;
    }

    private uint NvWrite(ref CommandContext context)
    {
        if (!_nv.TryGetValue(context.Handle1, out NvIndex? index))
        {
            return TpmRc.H(TpmRc.Handle, 2);
        }

        uint rc = context.Parameters.Read2B(TpmConstants.NvBufferMax, out ReadOnlySpan<byte> data);
        if (rc != TpmRc.Success)
        {
            return TpmRc.P(rc, 1);
        }

        if (!context.Parameters.TryU16(out ushort offset))
        {
            return Short(2);
        }

        rc = CheckNvAccess(index, context.Handle0, write: true);
        if (rc != TpmRc.Success)
        {
            return rc;
        }

        if (index.Type != TpmConstants.NtOrdinary)
        {
            return TpmRc.Attributes;
        }

        if (offset + data.Length > index.DataSize
            || ((index.Attributes & TpmConstants.NvWriteAll) != 0 && data.Length != index.DataSize))
        {
            return TpmRc.NvRange;
        }

        data.CopyTo(index.Data.AsSpan(offset));
        index.Attributes |= TpmConstants.NvWritten;
        _persistentDirty = true;
        return TpmRc.Success;
    }

    private uint NvRead(ref CommandContext context)
    {
        if (!_nv.TryGetValue(context.Handle1, out NvIndex? index))
        {
            return TpmRc.H(TpmRc.Handle, 2);
        }

        if (!context.Parameters.TryU16(out ushort size))
        {
            return Short(1);
        }

        if (!context.Parameters.TryU16(out ushort offset))
        {
            return Short(2);
        }

        uint rc = CheckNvAccess(index, context.Handle0, write: false);
        if (rc != TpmRc.Success)
        {
            return rc;
        }

        if (!index.Written)
        {
            return TpmRc.NvUninitialized;
        }

        if (offset + size > index.DataSize)
        {
            return TpmRc.NvRange;
        }

        if (size > TpmConstants.NvBufferMax)
        {
            return TpmRc.P(TpmRc.Value, 1);
        }

        context.Response.Tpm2B(index.Data.AsSpan(offset, size));
        return TpmRc.Success;
    }

    private uint NvReadPublic(ref CommandContext context)
    {
        if (!_nv.TryGetValue(context.Handle0, out NvIndex? index))
        {
            return TpmRc.H(TpmRc.Handle, 1);
        }

        int sizeAt = context.Response.ReserveU16();
        int start = context.Response.Position;
        index.WritePublic(ref context.Response);
        context.Response.PatchU16(sizeAt, (ushort)(context.Response.Position - start));
        Span<byte> name = stackalloc byte[2 + HashAlgorithms.MaxDigestSize];
        context.Response.Tpm2B(name[..index.ComputeName(name)]);
        return TpmRc.Success;
    }

    private uint NvIncrement(ref CommandContext context)
    {
        if (!_nv.TryGetValue(context.Handle1, out NvIndex? index))
        {
            return TpmRc.H(TpmRc.Handle, 2);
        }

        uint rc = CheckNvAccess(index, context.Handle0, write: true);
        if (rc != TpmRc.Success)
        {
            return rc;
        }

        if (index.Type != TpmConstants.NtCounter)
        {
            return TpmRc.Attributes;
        }

        ulong value = index.Written ? BinaryPrimitives.ReadUInt64BigEndian(index.Data) : _maxCounter;
        BinaryPrimitives.WriteUInt64BigEndian(index.Data, value + 1);
        index.Attributes |= TpmConstants.NvWritten;
        _persistentDirty = true;
        return TpmRc.Success;
    }

    private uint NvExtend(ref CommandContext context)
    {
        if (!_nv.TryGetValue(context.Handle1, out NvIndex? index))
        {
            return TpmRc.H(TpmRc.Handle, 2);
        }

        uint rc = context.Parameters.Read2B(TpmConstants.NvBufferMax, out ReadOnlySpan<byte> data);
        if (rc != TpmRc.Success)
        {
            return TpmRc.P(rc, 1);
        }

        rc = CheckNvAccess(index, context.Handle0, write: true);
        if (rc != TpmRc.Success)
        {
            return rc;
        }

        if (index.Type != TpmConstants.NtExtend)
        {
            return TpmRc.Attributes;
        }

        HashAlgorithms.Extend(index.NameAlg, index.Data, data);
        index.Attributes |= TpmConstants.NvWritten;
        _persistentDirty = true;
        return TpmRc.Success;
    }

    private uint NvSetBits(ref CommandContext context)
    {
        if (!_nv.TryGetValue(context.Handle1, out NvIndex? index))
        {
            return TpmRc.H(TpmRc.Handle, 2);
        }

        if (!context.Parameters.TryU64(out ulong bits))
        {
            return Short(1);
        }

        uint rc = CheckNvAccess(index, context.Handle0, write: true);
        if (rc != TpmRc.Success)
        {
            return rc;
        }

        if (index.Type != TpmConstants.NtBits)
        {
            return TpmRc.Attributes;
        }

        ulong value = index.Written ? BinaryPrimitives.ReadUInt64BigEndian(index.Data) : 0;
        BinaryPrimitives.WriteUInt64BigEndian(index.Data, value | bits);
        index.Attributes |= TpmConstants.NvWritten;
        _persistentDirty = true;
        return TpmRc.Success;
    }
}
