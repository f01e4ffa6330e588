namespace FastPath.Vtpm.Engine;

/// <summary>PCR banks (SHA-1, SHA-256, SHA-384, SHA-512; 24 PCRs each) and PCR_Extend/Event/Read/Reset (Part 3, 22).</summary>
public sealed partial class TpmEngine
{
    /// <summary>TPML_DIGEST holds at most 8 digests (Part 2, 10.9.2); PCR_Read returns at most that many.</summary>
    private const int MaxPcrReadDigests = 8;

    private static int BankIndex(ushort alg)
    {
        ReadOnlySpan<ushort> banks = HashAlgorithms.Banks;
        for (int i = 0; i < banks.Length; i++)
        {
            if (banks[i] == alg)
            {
                return i;
            }
        }

        return -1;
    }

    private void ResetPcrs()
    {
        for (int bank = 0; bank < _pcrs.Length; bank++)
        {
            for (int pcr = 0; pcr < TpmConstants.PcrCount; pcr++)
            {
                // PC Client profile: PCRs 17-22 (the D-RTM PCRs) start as all ones until a D-RTM event resets them.
                _pcrs[bank][pcr].AsSpan().Fill(pcr is >= 17 and <= 22 ? (byte)0xFF : (byte)0);
            }
        }

        _pcrUpdateCounter = 0;
    }

    /// <summary>PC Client locality rules: at localities 0 and 1, PCRs 0-16 and 23 may be extended and
    /// only 16 and 23 reset; PCRs 17-22 need locality 2 or higher.</summary>
    private bool MayExtend(uint pcr) => pcr is <= 16 or 23 || Locality >= 2;

    private bool MayReset(uint pcr) => pcr is 16 or 23 || (pcr >= 17 && Locality >= 2);

    private uint PcrExtend(ref CommandContext context)
    {
        if (!context.Parameters.TryU32(out uint count) || count > 16)
        {
            return count > 16 ? TpmRc.P(TpmRc.Size, 1) : Short(1);
        }

        // Validate the whole list before touching any bank, then walk it again to extend.
        ReadOnlySpan<byte> digests = context.Parameters.Rest;
        for (int i = 0; i < (int)count; i++)
        {
            if (!context.Parameters.TryU16(out ushort alg))
            {
                return Short(1);
            }

            int size = HashAlgorithms.DigestSize(alg);
            if (size == 0)
            {
                return TpmRc.P(TpmRc.Hash, 1);
            }

            if (!context.Parameters.TryBytes(size, out _))
            {
                return Short(1);
            }
        }

        if (context.Handle0 == TpmConstants.RhNull)
        {
            return TpmRc.Success;
        }

        if ((byte)(context.Handle0 >> 24) != TpmConstants.HtPcr)
        {
            return TpmRc.H(TpmRc.Value, 1);
        }

        if (!MayExtend(context.Handle0))
        {
            return TpmRc.Locality;
        }

        var replay = new TpmReader(digests);
        for (int i = 0; i < (int)count; i++)
        {
            replay.TryU16(out ushort alg);
            replay.TryBytes(HashAlgorithms.DigestSize(alg), out ReadOnlySpan<byte> digest);
            HashAlgorithms.Extend(alg, _pcrs[BankIndex(alg)][context.Handle0], digest);
        }

        _pcrUpdateCounter++;
        return TpmRc.Success;
    }

    private uint PcrEvent(ref CommandContext context)
    {
        uint rc = context.Parameters.Read2B(TpmConstants.MaxBuffer, out ReadOnlySpan<byte> eventData);
        if (rc != TpmRc.Success)
        {
            return TpmRc.P(rc, 1);
        }

        bool extend = context.Handle0 != TpmConstants.RhNull;
        if (extend && (byte)(context.Handle0 >> 24) != TpmConstants.HtPcr)
        {
            return TpmRc.H(TpmRc.Value, 1);
        }

        if (extend && !MayExtend(context.Handle0))
        {
            return TpmRc.Locality;
        }

        ReadOnlySpan<ushort> banks = HashAlgorithms.Banks;
        Span<byte> digest = stackalloc byte[HashAlgorithms.MaxDigestSize];
        context.Response.U32((uint)banks.Length);
        for (int bank = 0; bank < banks.Length; bank++)
        {
            int size = HashAlgorithms.Hash(banks[bank], eventData, digest);
            context.Response.U16(banks[bank]);
            context.Response.Bytes(digest[..size]);
            if (extend)
            {
                HashAlgorithms.Extend(banks[bank], _pcrs[bank][context.Handle0], digest[..size]);
            }
        }

        if (extend)
        {
            _pcrUpdateCounter++;
        }

        return TpmRc.Success;
    }

    private uint PcrRead(ref CommandContext context)
    {
        if (!context.Parameters.TryU32(out uint count))
        {
            return Short(1);
        }

        if (count > 16)
        {
            return TpmRc.P(TpmRc.Size, 1);
        }

        Span<ushort> algs = stackalloc ushort[16];
        Span<uint> selections = stackalloc uint[16];
        for (int i = 0; i < (int)count; i++)
        {
            if (!context.Parameters.TryU16(out algs[i]) || !context.Parameters.TryU8(out byte sizeOfSelect))
            {
                return Short(1);
            }

            if (sizeOfSelect > 4)
            {
                return TpmRc.P(TpmRc.Value, 1);
            }

            if (!context.Parameters.TryBytes(sizeOfSelect, out ReadOnlySpan<byte> select))
            {
                return Short(1);
            }

            uint bits = 0;
            for (int b = 0; b < select.Length && b < 3; b++)
            {
                bits |= (uint)select[b] << (8 * b);
            }

            selections[i] = bits;
        }

        // Walk the selection in order, keeping at most eight digests; what does not fit is dropped from
        // the returned selection so the caller can ask again (Part 3, 22.4.1).
        int taken = 0;
        Span<uint> returned = stackalloc uint[16];
        for (int i = 0; i < (int)count; i++)
        {
            if (BankIndex(algs[i]) < 0)
            {
                continue;
            }

            for (int pcr = 0; pcr < TpmConstants.PcrCount; pcr++)
            {
                if ((selections[i] & (1u << pcr)) != 0 && taken < MaxPcrReadDigests)
                {
                    returned[i] |= 1u << pcr;
                    taken++;
                }
            }
        }

        context.Response.U32(_pcrUpdateCounter);
        context.Response.U32(count);
        for (int i = 0; i < (int)count; i++)
        {
            context.Response.U16(algs[i]);
            context.Response.U8(TpmConstants.PcrSelectMin);
            context.Response.U8((byte)returned[i]);
            context.Response.U8((byte)(returned[i] >> 8));
            context.Response.U8((byte)(returned[i] >> 16));
        }

        context.Response.U32((uint)taken);
        for (int i = 0; i < (int)count; i++)
        {
            int bank = BankIndex(algs[i]);
            for (int pcr = 0; pcr < TpmConstants.PcrCount; pcr++)
            {
                if ((returned[i] & (1u << pcr)) != 0)
                {
                    context.Response.Tpm2B(_pcrs[bank][pcr]);
                }
            }
        }

        return TpmRc.Success;
    }

    private uint PcrReset(ref CommandContext context)
    {
        if ((byte)(context.Handle0 >> 24) != TpmConstants.HtPcr)
        {
            return TpmRc.H(TpmRc.Value, 1);
        }

        if (!MayReset(context.Handle0))
        {
            return TpmRc.Locality;
        }

        for (int bank = 0; bank < _pcrs.Length; bank++)
        {
            _pcrs[bank][context.Handle0].AsSpan().Clear();
        }

        _pcrUpdateCounter++;
        return TpmRc.Success;
    }

    private byte[] SerializePcrs()
    {
        var bytes = new List<byte>();
        foreach (byte[][] bank in _pcrs)
        {
            foreach (byte[] pcr in bank)
            {
                bytes.AddRange(pcr);
            }
        }

        return [.. bytes];
    }

    private void RestorePcrs(byte[] saved)
    {
        int offset = 0;
        foreach (byte[][] bank in _pcrs)
        {
            foreach (byte[] pcr in bank)
            {
                saved.AsSpan(offset, pcr.Length).CopyTo(pcr);
                offset += pcr.Length;
            }
        }
    }
}
