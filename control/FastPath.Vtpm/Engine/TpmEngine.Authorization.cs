using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace FastPath.Vtpm.Engine;

/// <summary>Handle checks, password/HMAC/policy authorization and the response authorization area.</summary>
public sealed partial class TpmEngine
{
    private uint CheckHandleExists(uint handle)
    {
        switch ((byte)(handle >> 24))
        {
            case TpmConstants.HtPcr:
                return handle < TpmConstants.PcrCount ? TpmRc.Success : TpmRc.Value;
            case TpmConstants.HtNvIndex:
                return _nv.ContainsKey(handle) ? TpmRc.Success : TpmRc.Handle;
            case TpmConstants.HtHmacSession:
            case TpmConstants.HtPolicySession:
                return FindSession(handle) is not null ? TpmRc.Success : TpmRc.Handle;
            case TpmConstants.HtPermanent:
                return handle is TpmConstants.RhOwner or TpmConstants.RhNull or TpmConstants.RhLockout or TpmConstants.RhEndorsement or TpmConstants.RhPlatform
                    ? TpmRc.Success
                    : TpmRc.Value;
            case TpmConstants.HtTransient:
                return FindObject(handle) is not null ? TpmRc.Success : TpmRc.Handle;
            default:
                return TpmRc.Handle;
        }
    }

    private AuthSession? FindSession(uint handle)
    {
        int slot = SessionSlot(handle);
        if (slot < 0)
        {
            return null;
        }

        AuthSession? session = _sessions[slot];
        return session is not null && session.Handle == handle ? session : null;
    }

    private static int SessionSlot(uint handle)
    {
        uint index = handle & 0x00FFFFFF;
        byte type = (byte)(handle >> 24);
        return (type is TpmConstants.HtHmacSession or TpmConstants.HtPolicySession) && index < MaxActiveSessions ? (int)index : -1;
    }

    private bool TryGetSession(uint handle, [NotNullWhen(true)] out AuthSession? session)
    {
        session = FindSession(handle);
        return session is not null && !session.Saved;
    }

    private HashSequence? FindObject(uint handle)
    {
        uint index = handle - TpmConstants.TransientFirst;
        return index < MaxLoadedObjects ? _objects[index] : null;
    }

    /// <summary>The auth value of an entity (Part 1, 19.6.4), or empty for entities without one.</summary>
    private ReadOnlySpan<byte> AuthValueOf(uint handle)
    {
        switch (handle)
        {
            case TpmConstants.RhOwner:
                return _ownerAuth;
            case TpmConstants.RhEndorsement:
                return _endorsementAuth;
            case TpmConstants.RhLockout:
                return _lockoutAuth;
            case TpmConstants.RhPlatform:
                return _platformAuth;
        }

        return (byte)(handle >> 24) switch
        {
            TpmConstants.HtNvIndex => _nv.TryGetValue(handle, out NvIndex? index) ? index.Auth : [],
            TpmConstants.HtTransient => FindObject(handle)?.Auth ?? [],
            _ => [],
        };
    }

    /// <summary>Entities whose failed authorizations count towards dictionary-attack lockout: NV indices
    /// without TPMA_NV_NO_DA and the lockout hierarchy (Part 1, 19.8.2); hierarchies otherwise answer BAD_AUTH.</summary>
    private bool IsDaProtected(uint handle) =>
        handle == TpmConstants.RhLockout
        || ((byte)(handle >> 24) == TpmConstants.HtNvIndex && _nv.TryGetValue(handle, out NvIndex? index) && (index.Attributes & TpmConstants.NvNoDa) == 0);

    /// <summary>Writes the Name of an entity: nameAlg||digest for NV indices, the Empty Buffer for sequence
    /// objects (they have no name algorithm; libtpms and tpm2-tss agree, as the tpm2_pcrevent side-by-side
    /// test of a large file shows), the handle for everything else.</summary>
    private int NameOf(uint handle, Span<byte> destination)
    {
        if ((byte)(handle >> 24) == TpmConstants.HtNvIndex && _nv.TryGetValue(handle, out NvIndex? index))
        {
            return index.ComputeName(destination);
        }

        if ((byte)(handle >> 24) == TpmConstants.HtTransient && FindObject(handle) is not null)
        {
            return 0;
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination, handle);
        return 4;
    }

    private uint CheckSessions(uint code, CommandInfo info, ReadOnlySpan<uint> handles, ReadOnlySpan<SessionInput> sessions, ReadOnlySpan<byte> command, ReadOnlySpan<byte> parameters)
    {
        Span<byte> cpHash = stackalloc byte[HashAlgorithms.MaxDigestSize];
        Span<byte> expected = stackalloc byte[HashAlgorithms.MaxDigestSize];
        for (int i = 0; i < sessions.Length; i++)
        {
            SessionInput input = sessions[i];
            ReadOnlySpan<byte> nonce = command.Slice(input.NonceOffset, input.NonceLength);
            ReadOnlySpan<byte> hmac = command.Slice(input.HmacOffset, input.HmacLength);
            if (i >= info.AuthHandles)
            {
                // Audit and parameter-encryption-only sessions are not implemented.
                return TpmRc.S(TpmRc.Attributes, i + 1);
            }

            uint entity = handles[i];
            if (input.Handle == TpmConstants.RsPw)
            {
                if (!nonce.IsEmpty)
                {
                    return TpmRc.S(TpmRc.Nonce, i + 1);
                }

                if ((input.Attributes & ~TpmConstants.SessionContinue) != 0)
                {
                    return TpmRc.S(TpmRc.Attributes, i + 1);
                }

                byte[] supplied = TrimAuth(hmac);
                if (!CryptographicOperations.FixedTimeEquals(supplied, AuthValueOf(entity)))
                {
                    return AuthFailure(entity, i);
                }

                continue;
            }

            if (!TryGetSession(input.Handle, out AuthSession? session))
            {
                return FindSession(input.Handle) is null ? TpmRc.S(TpmRc.Handle, i + 1) : TpmRc.ReferenceS0 + (uint)i;
            }

            if ((input.Attributes & (TpmConstants.SessionDecrypt | TpmConstants.SessionEncrypt | TpmConstants.SessionAudit)) != 0)
            {
                return TpmRc.S(TpmRc.Attributes, i + 1);
            }

            if (session.SessionType != TpmConstants.SeHmac)
            {
                // Policy commands belong to the second command set; a policy session authorizes nothing yet.
                return TpmRc.S(TpmRc.AuthType, i + 1);
            }

            int digestSize = HashAlgorithms.DigestSize(session.AuthHash);
            if (nonce.Length < 16 || nonce.Length > digestSize)
            {
                return TpmRc.S(TpmRc.Size, i + 1);
            }

            ComputeCpHash(session.AuthHash, code, handles[..info.Handles], parameters, cpHash);
            ComputeSessionHmac(session, AuthValueOf(entity), cpHash[..digestSize], nonce, session.NonceTpm, input.Attributes, expected);
            if (hmac.Length != digestSize || !CryptographicOperations.FixedTimeEquals(hmac, expected[..digestSize]))
            {
                return AuthFailure(entity, i);
            }

            session.NonceCaller = nonce.ToArray();
        }

        return TpmRc.Success;
    }

    private uint AuthFailure(uint entity, int sessionIndex)
    {
        if (IsDaProtected(entity))
        {
            _failedTries++;
            _persistentDirty = true;
            return TpmRc.S(TpmRc.AuthFail, sessionIndex + 1);
        }

        return TpmRc.S(TpmRc.BadAuth, sessionIndex + 1);
    }

    private void ComputeCpHash(ushort alg, uint code, ReadOnlySpan<uint> handles, ReadOnlySpan<byte> parameters, Span<byte> destination)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithms.Name(alg));
        Span<byte> buffer = stackalloc byte[2 + HashAlgorithms.MaxDigestSize];
        BinaryPrimitives.WriteUInt32BigEndian(buffer, code);
        hash.AppendData(buffer[..4]);
        foreach (uint handle in handles)
        {
            hash.AppendData(buffer[..NameOf(handle, buffer)]);
        }

        hash.AppendData(parameters);
        hash.GetHashAndReset(destination);
    }

    private static void ComputeSessionHmac(AuthSession session, ReadOnlySpan<byte> authValue, ReadOnlySpan<byte> pHash, ReadOnlySpan<byte> nonceNewer, ReadOnlySpan<byte> nonceOlder, byte attributes, Span<byte> destination)
    {
        Span<byte> key = stackalloc byte[session.SessionKey.Length + authValue.Length];
        session.SessionKey.CopyTo(key);
        authValue.CopyTo(key[session.SessionKey.Length..]);
        Span<byte> message = stackalloc byte[pHash.Length + nonceNewer.Length + nonceOlder.Length + 1];
        pHash.CopyTo(message);
        nonceNewer.CopyTo(message[pHash.Length..]);
        nonceOlder.CopyTo(message[(pHash.Length + nonceNewer.Length)..]);
        message[^1] = attributes;
        HashAlgorithms.Hmac(session.AuthHash, key, message, destination);
    }

    private void WriteSessionResponse(ref TpmWriter writer, uint code, scoped ReadOnlySpan<uint> handles, int index, SessionInput input, scoped ReadOnlySpan<byte> parameters)
    {
        if (input.Handle == TpmConstants.RsPw || !TryGetSession(input.Handle, out AuthSession? session))
        {
            writer.U16(0);
            writer.U8(TpmConstants.SessionContinue);
            writer.U16(0);
            return;
        }

        int digestSize = HashAlgorithms.DigestSize(session.AuthHash);
        session.NonceTpm = NewRandom(digestSize);
        byte attributes = (byte)(input.Attributes & ~TpmConstants.SessionAuditReset);

        // rpHash = H(responseCode || commandCode || parameters) (Part 1, 18.8).
        Span<byte> rpHash = stackalloc byte[HashAlgorithms.MaxDigestSize];
        using (var hash = IncrementalHash.CreateHash(HashAlgorithms.Name(session.AuthHash)))
        {
            Span<byte> codes = stackalloc byte[8];
            BinaryPrimitives.WriteUInt32BigEndian(codes, TpmRc.Success);
            BinaryPrimitives.WriteUInt32BigEndian(codes[4..], code);
            hash.AppendData(codes);
            hash.AppendData(parameters);
            hash.GetHashAndReset(rpHash);
        }

        Span<byte> hmac = stackalloc byte[HashAlgorithms.MaxDigestSize];
        ComputeSessionHmac(session, AuthValueOf(handles[index]), rpHash[..digestSize], session.NonceTpm, session.NonceCaller, attributes, hmac);
        writer.Tpm2B(session.NonceTpm);
        writer.U8(attributes);
        writer.Tpm2B(hmac[..digestSize]);
    }
}
