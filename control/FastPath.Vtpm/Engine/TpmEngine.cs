using System.Buffers.Binary;
using System.Security.Cryptography;

namespace FastPath.Vtpm.Engine;

/// <summary>
/// A TPM 2.0 command engine: one call to <see cref="Execute"/> takes a complete command buffer and writes
/// the complete response (Part 1, 18: header, handles, authorization area, parameters). Never throws and
/// never reads outside the command: malformed input answers the matching format/size response code.
/// Deterministic given its state and its <see cref="RandomSource"/> (the pair's slave replays the entropy its master recorded).
/// </summary>
/// <remarks>Not thread-safe: callers serialize <see cref="Execute"/> (the server runs one command at a time).</remarks>
public sealed partial class TpmEngine : VtpmEngine
{

    private const int MaxSessionsPerCommand = 3;
    private const int MaxLoadedSessions = 3;
    private const int MaxActiveSessions = 64;
    private const int MaxLoadedObjects = 3;
    private const uint MaxAuthFail = 3;

    private readonly RandomSource _random;
    private readonly Action<byte[]>? _persist;
    private readonly byte[] _parameters = new byte[TpmConstants.MaxResponseSize];
    private readonly Drbg _drbg = new();

    // Persistent state (survives power loss; written through _persist before the response leaves).
    private byte[] _ownerAuth = [];
    private byte[] _endorsementAuth = [];
    private byte[] _lockoutAuth = [];
    private byte[] _platformAuth = [];
    private byte[] _ownerProof = new byte[64];
    private byte[] _endorsementProof = new byte[64];
    private byte[] _platformProof = new byte[64];
    private byte[] _ownerSeed = new byte[64];
    private byte[] _endorsementSeed = new byte[64];
    private byte[] _platformSeed = new byte[64];
    private readonly SortedDictionary<uint, NvIndex> _nv = [];
    private uint _failedTries;
    private bool _disableClear;
    private ulong _maxCounter;
    private uint _resetCount;
    private uint _restartCount;
    private byte[]? _savedPcrs;

    // Volatile state (lost on power loss, reset by Startup(CLEAR)).
    private bool _started;
    private readonly byte[][][] _pcrs;
    private uint _pcrUpdateCounter;
    private readonly AuthSession?[] _sessions = new AuthSession?[MaxActiveSessions];
    private readonly HashSequence?[] _objects = new HashSequence?[MaxLoadedObjects];
    private ulong _contextSequence;
    private readonly byte[] _contextKey = new byte[32];
    private bool _reseeded;
    private bool _persistentDirty;

    /// <summary>Creates a manufactured TPM (fresh seeds and proofs) or restores one from a persistent blob.</summary>
    /// <param name="random">The only entropy source the engine draws from.</param>
    /// <param name="persistentState">A blob from <see cref="SerializePersistent"/>, or null to manufacture.</param>
    /// <param name="persist">Called with the new persistent blob, before the response is returned, after every
    /// command that changed persistent state; it must be durable when it returns.</param>
    public TpmEngine(RandomSource random, byte[]? persistentState = null, Action<byte[]>? persist = null)
    {
        _random = random;
        _persist = persist;
        _pcrs = new byte[HashAlgorithms.Banks.Length][][];
        for (int bank = 0; bank < _pcrs.Length; bank++)
        {
            _pcrs[bank] = new byte[TpmConstants.PcrCount][];
            for (int pcr = 0; pcr < TpmConstants.PcrCount; pcr++)
            {
                _pcrs[bank][pcr] = new byte[HashAlgorithms.DigestSize(HashAlgorithms.Banks[bank])];
            }
        }

        if (persistentState is null)
        {
            Manufacture();
        }
        else
        {
            RestorePersistent(persistentState);
        }

        PowerOn();
    }

    /// <summary>Locality of the next commands (swtpm control channel CMD_SET_LOCALITY).</summary>
    public override byte Locality { get; set; }


    /// <summary>Whether Startup has run since power-on.</summary>
    public bool Started => _started;

    /// <summary>Simulates power loss and power-on (swtpm CMD_INIT): volatile state is gone, Startup is needed.</summary>
    public override void PowerOn()
    {
        _started = false;
        FlushAllTransient();
        _drbg.Reset();
        _reseeded = false;
        Locality = 0;
    }

    public override void Dispose() => FlushAllTransient();

    public override VtpmEngineKind Kind => VtpmEngineKind.Managed;

    /// <summary>Our state has no clock in it: the full state is compared.</summary>
    public override bool DigestCoversAllState => true;

    public override VtpmEngine WithPersistent(byte[] persistent)
    {
        var replacement = new TpmEngine(_random, persistent, _persist) { FailureObserved = FailureObserved };
        return replacement;
    }

    /// <summary>
    /// Executes one command and writes the response into <paramref name="response"/> (at least
    /// <see cref="ResponseBufferSize"/> bytes). Returns the response length.
    /// </summary>
    public override int Execute(ReadOnlySpan<byte> command, Span<byte> response)
    {
        _reseeded = false;
        _persistentDirty = false;
        int length;
        try
        {
            length = ExecuteUnchecked(command, response);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // An engine defect or a replica whose replayed entropy ran dry: the TPM enters failure mode for
            // this command only (Part 1, 12.7), the caller gets a well-formed response.
            length = ErrorResponse(response, TpmConstants.StNoSessions, TpmRc.Failure);
            FailureObserved?.Invoke(exception);
        }

        if (_persistentDirty && _persist is not null)
        {
            try
            {
                _persist(SerializePersistent());
            }
            catch (IOException)
            {
                // The change is not durable, so it must not be acknowledged (Part 1, 37.2: NV unavailable).
                length = ErrorResponse(response, TpmConstants.StNoSessions, TpmRc.NvUnavailable);
            }
        }

        return length;
    }

    private static int ErrorResponse(Span<byte> response, ushort tag, uint rc)
    {
        BinaryPrimitives.WriteUInt16BigEndian(response, tag);
        BinaryPrimitives.WriteUInt32BigEndian(response[2..], TpmConstants.HeaderSize);
        BinaryPrimitives.WriteUInt32BigEndian(response[6..], rc);
        return TpmConstants.HeaderSize;
    }

    private int ExecuteUnchecked(ReadOnlySpan<byte> command, Span<byte> response)
    {
        var header = new TpmReader(command);
        if (!header.TryU16(out ushort tag) || !header.TryU32(out uint commandSize) || !header.TryU32(out uint code))
        {
            return ErrorResponse(response, TpmConstants.StNoSessions, TpmRc.Insufficient);
        }

        if (tag != TpmConstants.StNoSessions && tag != TpmConstants.StSessions)
        {
            return ErrorResponse(response, TpmConstants.StRspCommand, TpmRc.BadTag);
        }

        if (commandSize != command.Length || commandSize > TpmConstants.MaxCommandSize)
        {
            return ErrorResponse(response, TpmConstants.StNoSessions, TpmRc.CommandSize);
        }

        if (!CommandInfo.TryFind(code, out CommandInfo info))
        {
            return ErrorResponse(response, TpmConstants.StNoSessions, TpmRc.CommandCode);
        }

        if (!_started && code != TpmCc.Startup)
        {
            return ErrorResponse(response, TpmConstants.StNoSessions, TpmRc.Initialize);
        }

        Span<uint> handles = stackalloc uint[2];
        for (int i = 0; i < info.Handles; i++)
        {
            if (!header.TryU32(out handles[i]))
            {
                return ErrorResponse(response, TpmConstants.StNoSessions, TpmRc.Insufficient);
            }

            uint rc = CheckHandleExists(handles[i]);
            if (rc != TpmRc.Success)
            {
                return ErrorResponse(response, TpmConstants.StNoSessions, TpmRc.H(rc, i + 1));
            }
        }

        // Authorization area (Part 1, 18.7): authorizationSize, then up to three sessions.
        Span<SessionInput> sessions = stackalloc SessionInput[MaxSessionsPerCommand];
        int sessionCount = 0;
        int authAreaStart = header.Position;
        if (tag == TpmConstants.StSessions)
        {
            if (!header.TryU32(out uint authSize) || authSize < 9 || authSize > header.Remaining)
            {
                return ErrorResponse(response, TpmConstants.StNoSessions, TpmRc.AuthSize);
            }

            if (!header.TryBytes((int)authSize, out ReadOnlySpan<byte> authArea))
            {
                return ErrorResponse(response, TpmConstants.StNoSessions, TpmRc.AuthSize);
            }

            var authReader = new TpmReader(authArea);
            while (authReader.Remaining > 0)
            {
                if (sessionCount == MaxSessionsPerCommand)
                {
                    return ErrorResponse(response, TpmConstants.StNoSessions, TpmRc.AuthSize);
                }

                ref SessionInput session = ref sessions[sessionCount];
                if (!authReader.TryU32(out session.Handle))
                {
                    return ErrorResponse(response, TpmConstants.StNoSessions, TpmRc.AuthSize);
                }

                uint rc = authReader.Read2B(HashAlgorithms.MaxDigestSize, out ReadOnlySpan<byte> nonce);
                if (rc == TpmRc.Success && !authReader.TryU8(out session.Attributes))
                {
                    rc = TpmRc.Insufficient;
                }

                ReadOnlySpan<byte> hmac = default;
                if (rc == TpmRc.Success)
                {
                    rc = authReader.Read2B(HashAlgorithms.MaxDigestSize, out hmac);
                }

                if (rc != TpmRc.Success)
                {
                    return ErrorResponse(response, TpmConstants.StNoSessions, rc == TpmRc.Insufficient ? TpmRc.AuthSize : TpmRc.S(rc, sessionCount + 1));
                }

                session.NonceOffset = authAreaStart + 4 + (authReader.Position - 2 - hmac.Length - 1 - nonce.Length);
                session.NonceLength = nonce.Length;
                session.HmacOffset = authAreaStart + 4 + (authReader.Position - hmac.Length);
                session.HmacLength = hmac.Length;
                sessionCount++;
            }
        }

        if (info.AuthHandles > sessionCount)
        {
            return ErrorResponse(response, TpmConstants.StNoSessions, TpmRc.AuthMissing);
        }

        ReadOnlySpan<byte> parameters = header.Rest;
        uint authRc = CheckSessions(code, info, handles, sessions[..sessionCount], command, parameters);
        if (authRc != TpmRc.Success)
        {
            return ErrorResponse(response, TpmConstants.StNoSessions, authRc);
        }

        var context = new CommandContext
        {
            Code = code,
            Handle0 = handles[0],
            Handle1 = handles[1],
            Parameters = new TpmReader(parameters),
            Response = new TpmWriter(_parameters, 0),
        };

        uint result = Dispatch(ref context);
        if (result == TpmRc.Success && context.Parameters.Remaining != 0)
        {
            result = TpmRc.Size;
        }

        if (result != TpmRc.Success)
        {
            return ErrorResponse(response, TpmConstants.StNoSessions, result);
        }

        return BuildResponse(response, tag, info, handles, sessions[..sessionCount], ref context);
    }

    private int BuildResponse(Span<byte> response, ushort tag, CommandInfo info, scoped ReadOnlySpan<uint> handles, scoped ReadOnlySpan<SessionInput> sessions, ref CommandContext context)
    {
        var writer = new TpmWriter(response, TpmConstants.HeaderSize);
        if (info.ResponseHandle)
        {
            writer.U32(context.ResponseHandle);
        }

        ReadOnlySpan<byte> parameters = context.Response.Written;
        if (tag == TpmConstants.StSessions)
        {
            writer.U32((uint)parameters.Length);
        }

        writer.Bytes(parameters);
        if (tag == TpmConstants.StSessions)
        {
            for (int i = 0; i < sessions.Length; i++)
            {
                WriteSessionResponse(ref writer, context.Code, handles, i, sessions[i], parameters);
            }
        }

        BinaryPrimitives.WriteUInt16BigEndian(response, tag);
        BinaryPrimitives.WriteUInt32BigEndian(response[2..], (uint)writer.Position);
        BinaryPrimitives.WriteUInt32BigEndian(response[6..], TpmRc.Success);

        // Sessions without continueSession end with the command (Part 1, 19.6.4).
        for (int i = 0; i < sessions.Length; i++)
        {
            if ((sessions[i].Attributes & TpmConstants.SessionContinue) == 0 && TryGetSession(sessions[i].Handle, out AuthSession? session))
            {
                _sessions[SessionSlot(session.Handle)] = null;
            }
        }

        return writer.Position;
    }

    /// <summary>Draws random bytes through the DRBG; the first draw of each command reseeds it from the
    /// injected source so every command that consumes randomness consumes exactly 32 source bytes first.</summary>
    private void GenerateRandom(Span<byte> destination)
    {
        if (!_reseeded)
        {
            Span<byte> entropy = stackalloc byte[Drbg.SeedSize];
            _random.Fill(entropy);
            _drbg.Reseed(entropy, []);
            _reseeded = true;
        }

        _drbg.Generate(destination);
    }

    private byte[] NewRandom(int length)
    {
        byte[] bytes = new byte[length];
        GenerateRandom(bytes);
        return bytes;
    }

    private void Manufacture()
    {
        _ownerProof = NewRandom(64);
        _endorsementProof = NewRandom(64);
        _platformProof = NewRandom(64);
        _ownerSeed = NewRandom(64);
        _endorsementSeed = NewRandom(64);
        _platformSeed = NewRandom(64);
        _persistentDirty = true;
    }

    private void FlushAllTransient()
    {
        Array.Clear(_sessions);
        Array.Clear(_objects);
    }

    /// <summary>Auth values are stored without trailing zeros (Part 1, 19.6.5), so padded passwords match.</summary>
    private static byte[] TrimAuth(ReadOnlySpan<byte> value)
    {
        int length = value.Length;
        while (length > 0 && value[length - 1] == 0)
        {
            length--;
        }

        return value[..length].ToArray();
    }

    private static uint ReadU32(ReadOnlySpan<byte> bytes) => BinaryPrimitives.ReadUInt32BigEndian(bytes);
}
