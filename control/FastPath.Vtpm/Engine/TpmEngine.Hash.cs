using System.Security.Cryptography;

namespace FastPath.Vtpm.Engine;

/// <summary>Hash, HashSequenceStart, SequenceUpdate, SequenceComplete, EventSequenceComplete (Part 3, 15.4, 17).</summary>
public sealed partial class TpmEngine
{
    /// <summary>TPM_GENERATED_VALUE: data starting with it gets no hash-check ticket (Part 3, 15.4.1).</summary>
    private static ReadOnlySpan<byte> GeneratedValue => [0xFF, 0x54, 0x43, 0x47];

    private uint Hash(ref CommandContext context)
    {
        uint rc = context.Parameters.Read2B(TpmConstants.MaxBuffer, out ReadOnlySpan<byte> data);
        if (rc != TpmRc.Success)
        {
            return TpmRc.P(rc, 1);
        }

        if (!context.Parameters.TryU16(out ushort alg))
        {
            return Short(2);
        }

        if (!context.Parameters.TryU32(out uint hierarchy))
        {
            return Short(3);
        }

        if (!HashAlgorithms.IsSupported(alg))
        {
            return TpmRc.P(TpmRc.Value, 2);
        }

        if (!IsTicketHierarchy(hierarchy))
        {
            return TpmRc.P(TpmRc.Value, 3);
        }

        Span<byte> digest = stackalloc byte[HashAlgorithms.MaxDigestSize];
        int size = HashAlgorithms.Hash(alg, data, digest);
        context.Response.Tpm2B(digest[..size]);
        WriteHashTicket(ref context.Response, hierarchy, digest[..size], data.StartsWith(GeneratedValue));
        return TpmRc.Success;
    }

    private static bool IsTicketHierarchy(uint hierarchy) =>
        hierarchy is TpmConstants.RhOwner or TpmConstants.RhEndorsement or TpmConstants.RhPlatform or TpmConstants.RhNull;

    /// <summary>TPMT_TK_HASHCHECK: HMAC-SHA256(proof(hierarchy), TPM_ST_HASHCHECK || digest), or the NULL ticket.</summary>
    private void WriteHashTicket(ref TpmWriter writer, uint hierarchy, scoped ReadOnlySpan<byte> digest, bool generated)
    {
        writer.U16(TpmConstants.StHashCheck);
        byte[]? proof = hierarchy switch
        {
            TpmConstants.RhOwner => _ownerProof,
            TpmConstants.RhEndorsement => _endorsementProof,
            TpmConstants.RhPlatform => _platformProof,
            _ => null,
        };
        if (proof is null || generated)
        {
            writer.U32(TpmConstants.RhNull);
            writer.U16(0);
            return;
        }

        writer.U32(hierarchy);
        Span<byte> message = stackalloc byte[2 + HashAlgorithms.MaxDigestSize];
        message[0] = TpmConstants.StHashCheck >> 8;
        message[1] = TpmConstants.StHashCheck & 0xFF;
        digest.CopyTo(message[2..]);
        Span<byte> hmac = stackalloc byte[32];
        HMACSHA256.HashData(proof, message[..(2 + digest.Length)], hmac);
        writer.Tpm2B(hmac);
    }

    private uint HashSequenceStart(ref CommandContext context)
    {
        uint rc = context.Parameters.Read2B(HashAlgorithms.MaxDigestSize, out ReadOnlySpan<byte> auth);
        if (rc != TpmRc.Success)
        {
            return TpmRc.P(rc, 1);
        }

        if (!context.Parameters.TryU16(out ushort alg))
        {
            return Short(2);
        }

        if (alg != TpmConstants.AlgNull && !HashAlgorithms.IsSupported(alg))
        {
            return TpmRc.P(TpmRc.Value, 2);
        }

        int slot = Array.IndexOf(_objects, null);
        if (slot < 0)
        {
            return TpmRc.ObjectMemory;
        }

        // An event sequence (TPM_ALG_NULL) hashes with every PCR bank at once.
        var hashes = new RunningHash[HashSequence.BankCount(alg)];
        for (int i = 0; i < hashes.Length; i++)
        {
            hashes[i] = RunningHash.Create(HashSequence.BankAlg(alg, i));
        }

        uint handle = TpmConstants.TransientFirst + (uint)slot;
        _objects[slot] = new HashSequence { Handle = handle, Alg = alg, Auth = TrimAuth(auth), Hashes = hashes };
        context.ResponseHandle = handle;
        return TpmRc.Success;
    }

    private uint SequenceUpdate(ref CommandContext context)
    {
        HashSequence? sequence = FindObject(context.Handle0);
        if (sequence is null)
        {
            return TpmRc.H(TpmRc.Handle, 1);
        }

        uint rc = context.Parameters.Read2B(TpmConstants.MaxBuffer, out ReadOnlySpan<byte> data);
        if (rc != TpmRc.Success)
        {
            return TpmRc.P(rc, 1);
        }

        if (sequence.FirstBytes.Length < 4)
        {
            int take = Math.Min(4 - sequence.FirstBytes.Length, data.Length);
            sequence.FirstBytes = [.. sequence.FirstBytes, .. data[..take]];
        }

        foreach (RunningHash hash in sequence.Hashes)
        {
            hash.Append(data);
        }

        return TpmRc.Success;
    }

    private uint SequenceComplete(ref CommandContext context)
    {
        HashSequence? sequence = FindObject(context.Handle0);
        if (sequence is null)
        {
            return TpmRc.H(TpmRc.Handle, 1);
        }

        uint rc = context.Parameters.Read2B(TpmConstants.MaxBuffer, out ReadOnlySpan<byte> data);
        if (rc != TpmRc.Success)
        {
            return TpmRc.P(rc, 1);
        }

        if (!context.Parameters.TryU32(out uint hierarchy))
        {
            return Short(2);
        }

        if (sequence.Alg == TpmConstants.AlgNull)
        {
            return TpmRc.H(TpmRc.Mode, 1);
        }

        if (!IsTicketHierarchy(hierarchy))
        {
            return TpmRc.P(TpmRc.Value, 2);
        }

        byte[] first = [.. sequence.FirstBytes, .. data[..Math.Min(4, data.Length)]];
        RunningHash hash = sequence.Hashes[0];
        hash.Append(data);
        Span<byte> digest = stackalloc byte[HashAlgorithms.MaxDigestSize];
        int size = hash.Finish(digest);
        context.Response.Tpm2B(digest[..size]);
        WriteHashTicket(ref context.Response, hierarchy, digest[..size], first.AsSpan().StartsWith(GeneratedValue));
        FlushObject(sequence.Handle);
        return TpmRc.Success;
    }

    /// <summary>Finishes an event sequence: one digest per PCR bank, each extended into the PCR unless the PCR
    /// handle is TPM_RH_NULL (Part 3, 17.5).</summary>
    private uint EventSequenceComplete(ref CommandContext context)
    {
        HashSequence? sequence = FindObject(context.Handle1);
        if (sequence is null)
        {
            return TpmRc.H(TpmRc.Handle, 2);
        }

        uint rc = context.Parameters.Read2B(TpmConstants.MaxBuffer, out ReadOnlySpan<byte> data);
        if (rc != TpmRc.Success)
        {
            return TpmRc.P(rc, 1);
        }

        if (sequence.Alg != TpmConstants.AlgNull)
        {
            return TpmRc.H(TpmRc.Mode, 2);
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

        Span<byte> digest = stackalloc byte[HashAlgorithms.MaxDigestSize];
        context.Response.U32((uint)sequence.Hashes.Length);
        for (int bank = 0; bank < sequence.Hashes.Length; bank++)
        {
            RunningHash hash = sequence.Hashes[bank];
            hash.Append(data);
            int size = hash.Finish(digest);
            context.Response.U16(hash.Alg);
            context.Response.Bytes(digest[..size]);
            if (extend)
            {
                HashAlgorithms.Extend(hash.Alg, _pcrs[BankIndex(hash.Alg)][context.Handle0], digest[..size]);
            }
        }

        if (extend)
        {
            _pcrUpdateCounter++;
        }

        FlushObject(sequence.Handle);
        return TpmRc.Success;
    }

    private void FlushObject(uint handle)
    {
        _objects[handle - TpmConstants.TransientFirst] = null;
    }
}
