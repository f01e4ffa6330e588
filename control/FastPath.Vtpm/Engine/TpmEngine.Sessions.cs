using System.Buffers.Binary;
using System.Security.Cryptography;

namespace FastPath.Vtpm.Engine;

/// <summary>StartAuthSession, ContextSave, ContextLoad, FlushContext (Part 3, 11.1, 28). Sessions live in the
/// engine, not in a connection: the swtpm TCTI opens a new connection per command.</summary>
public sealed partial class TpmEngine
{
    private const int IntegritySize = 32;

    private int LoadedSessionCount()
    {
        int count = 0;
        foreach (AuthSession? session in _sessions)
        {
            if (session is not null && !session.Saved)
            {
                count++;
            }
        }

        return count;
    }

    private uint StartAuthSession(ref CommandContext context)
    {
        // Salted (tpmKey) and bound (bind) sessions need object loading, which is the second command set.
        if (context.Handle0 != TpmConstants.RhNull)
        {
            return TpmRc.H(TpmRc.Value, 1);
        }

        if (context.Handle1 != TpmConstants.RhNull)
        {
            return TpmRc.H(TpmRc.Value, 2);
        }

        uint rc = context.Parameters.Read2B(HashAlgorithms.MaxDigestSize, out ReadOnlySpan<byte> nonceCaller);
        if (rc != TpmRc.Success)
        {
            return TpmRc.P(rc, 1);
        }

        rc = context.Parameters.Read2B(TpmConstants.MaxCommandSize, out ReadOnlySpan<byte> salt);
        if (rc != TpmRc.Success)
        {
            return TpmRc.P(rc, 2);
        }

        if (!context.Parameters.TryU8(out byte sessionType))
        {
            return Short(3);
        }

        if (!context.Parameters.TryU16(out ushort symAlg))
        {
            return Short(4);
        }

        ushort keyBits = 0;
        ushort mode = 0;
        if (symAlg != TpmConstants.AlgNull && (!context.Parameters.TryU16(out keyBits) || !context.Parameters.TryU16(out mode)))
        {
            return Short(4);
        }

        if (!context.Parameters.TryU16(out ushort authHash))
        {
            return Short(5);
        }

        if (!salt.IsEmpty)
        {
            return TpmRc.P(TpmRc.Value, 2);
        }

        if (sessionType is not (TpmConstants.SeHmac or TpmConstants.SePolicy or TpmConstants.SeTrial))
        {
            return TpmRc.P(TpmRc.Value, 3);
        }

        // The symmetric definition is accepted (tpm2_startauthsession asks for AES-128-CFB) but parameter
        // encryption itself is refused per command through the decrypt/encrypt session attributes.
        if (symAlg != TpmConstants.AlgNull && !(symAlg == TpmConstants.AlgAes && keyBits is 128 or 256 && mode == TpmConstants.AlgCfb) && symAlg != TpmConstants.AlgXor)
        {
            return TpmRc.P(TpmRc.Symmetric, 4);
        }

        int digestSize = HashAlgorithms.DigestSize(authHash);
        if (digestSize == 0)
        {
            return TpmRc.P(TpmRc.Hash, 5);
        }

        if (nonceCaller.Length < 16)
        {
            return TpmRc.P(TpmRc.Size, 1);
        }

        int slot = Array.IndexOf(_sessions, null);
        if (slot < 0)
        {
            return TpmRc.SessionHandles;
        }

        if (LoadedSessionCount() >= MaxLoadedSessions)
        {
            return TpmRc.SessionMemory;
        }

        uint first = sessionType == TpmConstants.SeHmac ? TpmConstants.HmacSessionFirst : TpmConstants.PolicySessionFirst;
        var session = new AuthSession
        {
            Handle = first + (uint)slot,
            SessionType = sessionType,
            AuthHash = authHash,
            SymmetricAlg = symAlg,
            SymmetricKeyBits = keyBits,
            SymmetricMode = mode,
            NonceTpm = NewRandom(digestSize),
            NonceCaller = nonceCaller.ToArray(),
            PolicyDigest = new byte[digestSize],
        };
        _sessions[slot] = session;
        context.ResponseHandle = session.Handle;
        context.Response.Tpm2B(session.NonceTpm);
        return TpmRc.Success;
    }

    private uint ContextSave(ref CommandContext context)
    {
        if (!TryGetSession(context.Handle0, out AuthSession? session))
        {
            // Transient objects (hash sequences) cannot be saved by this implementation.
            return TpmRc.H(TpmRc.Handle, 1);
        }

        ulong sequence = ++_contextSequence;
        Span<byte> payload = stackalloc byte[256];
        var body = new TpmWriter(payload, 0);
        body.U8(session.SessionType);
        body.U16(session.AuthHash);
        body.U16(session.SymmetricAlg);
        body.U16(session.SymmetricKeyBits);
        body.U16(session.SymmetricMode);
        body.Tpm2B(session.NonceTpm);
        body.Tpm2B(session.NonceCaller);
        body.Tpm2B(session.PolicyDigest);

        context.Response.U64(sequence);
        context.Response.U32(session.Handle);
        context.Response.U32(TpmConstants.RhNull);
        context.Response.U16((ushort)(2 + IntegritySize + body.Position));
        Span<byte> integrity = stackalloc byte[IntegritySize];
        ComputeContextIntegrity(sequence, session.Handle, body.Written, integrity);
        context.Response.Tpm2B(integrity);
        context.Response.Bytes(body.Written);

        session.Saved = true;
        session.SavedSequence = sequence;
        return TpmRc.Success;
    }

    /// <summary>HMAC-SHA256 under the per-reset context key over sequence || handle || payload, so a context
    /// blob from before the last Startup(CLEAR), or an edited one, is refused.</summary>
    private void ComputeContextIntegrity(ulong sequence, uint handle, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        Span<byte> message = stackalloc byte[12 + payload.Length];
        BinaryPrimitives.WriteUInt64BigEndian(message, sequence);
        BinaryPrimitives.WriteUInt32BigEndian(message[8..], handle);
        payload.CopyTo(message[12..]);
        HMACSHA256.HashData(_contextKey, message, destination);
    }

    private uint ContextLoad(ref CommandContext context)
    {
        if (!context.Parameters.TryU64(out ulong sequence) || !context.Parameters.TryU32(out uint handle) || !context.Parameters.TryU32(out _))
        {
            return Short(1);
        }

        uint rc = context.Parameters.Read2B(TpmConstants.MaxCommandSize, out ReadOnlySpan<byte> blob);
        if (rc != TpmRc.Success)
        {
            return TpmRc.P(rc, 1);
        }

        var reader = new TpmReader(blob);
        rc = reader.Read2B(IntegritySize, out ReadOnlySpan<byte> integrity);
        if (rc != TpmRc.Success || integrity.Length != IntegritySize)
        {
            return TpmRc.P(TpmRc.Size, 1);
        }

        ReadOnlySpan<byte> payload = reader.Rest;
        Span<byte> expected = stackalloc byte[IntegritySize];
        ComputeContextIntegrity(sequence, handle, payload, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, integrity))
        {
            return TpmRc.P(TpmRc.Integrity, 1);
        }

        AuthSession? session = FindSession(handle);
        if (session is null || !session.Saved || session.SavedSequence != sequence)
        {
            return TpmRc.P(TpmRc.Handle, 1);
        }

        if (LoadedSessionCount() >= MaxLoadedSessions)
        {
            return TpmRc.SessionMemory;
        }

        var body = new TpmReader(payload);
        body.TryBytes(9, out _);
        body.Read2B(HashAlgorithms.MaxDigestSize, out ReadOnlySpan<byte> nonceTpm);
        body.Read2B(HashAlgorithms.MaxDigestSize, out ReadOnlySpan<byte> nonceCaller);
        body.Read2B(HashAlgorithms.MaxDigestSize, out ReadOnlySpan<byte> policyDigest);
        session.NonceTpm = nonceTpm.ToArray();
        session.NonceCaller = nonceCaller.ToArray();
        session.PolicyDigest = policyDigest.ToArray();
        session.Saved = false;
        context.ResponseHandle = handle;
        return TpmRc.Success;
    }

    private uint FlushContext(ref CommandContext context)
    {
        if (!context.Parameters.TryU32(out uint handle))
        {
            return Short(1);
        }

        if (FindSession(handle) is not null)
        {
            _sessions[SessionSlot(handle)] = null;
            return TpmRc.Success;
        }

        if ((byte)(handle >> 24) == TpmConstants.HtTransient && FindObject(handle) is not null)
        {
            FlushObject(handle);
            return TpmRc.Success;
        }

        return TpmRc.P(TpmRc.Handle, 1);
    }
}
