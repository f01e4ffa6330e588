using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Net.Sockets;

namespace FastPath.Bench.Vtpm;

/// <summary>One load client on its own thread: walks its <see cref="VtpmMix"/> cycle from its own offset over
/// one persistent connection (or a new connection per command), checks every response code, and keeps the
/// latency of each command that completes inside the measured window.</summary>
/// <remarks>One thread runs <see cref="Run"/>; the harness reads the results after joining that thread.
/// A failed command (response code not success, or a connection error) ends this client and sets
/// <see cref="Failure"/>; the harness aborts the whole run on it.</remarks>
internal sealed class VtpmLoadClient
{
    private readonly int _port;
    private readonly VtpmMix _mix;
    private readonly int _client;
    private readonly bool _connectionPerCommand;
    private readonly byte[][] _commands;
    private readonly byte[] _nvWrite;
    private readonly byte[] _response = new byte[TpmWire.ResponseBufferSize];
    private uint _counter;
    private readonly byte[] _nonceCaller = new byte[32];
    private byte[] _nonceTpm = [];
    private ulong _nonceCounter;
    private uint _session;
    private uint _signingKey;
    private uint _attestationKey;

    public VtpmLoadClient(int port, VtpmMix mix, int client, bool connectionPerCommand)
    {
        _port = port;
        _mix = mix;
        _client = client;
        _connectionPerCommand = connectionPerCommand;
        _nvWrite = TpmWire.NvWrite(new byte[TpmWire.NvSize]);
        _commands = new byte[mix.Cycle.Count][];
        for (int i = 0; i < _commands.Length; i++)
        {
            _commands[i] = mix.Cycle[i] switch
            {
                VtpmOp.PcrRead => TpmWire.PcrReadSha256(16),
                VtpmOp.NvRead => TpmWire.NvRead(TpmWire.NvSize),
                VtpmOp.GetCapability => TpmWire.GetCapabilityFamily(),
                VtpmOp.PcrExtend => TpmWire.PcrExtendSha256(16),
                VtpmOp.NvWrite => _nvWrite,

                // Built per command from the session's nonces or the client's keys (see Next).
                _ => [],
            };
        }
    }

    /// <summary>Latencies (Stopwatch ticks) of the commands that completed inside the measured window.</summary>
    public List<long> Latencies { get; } = new(1 << 16);

    public string? Failure { get; private set; }

    /// <summary>Sends commands until <paramref name="end"/> (a Stopwatch timestamp) or <paramref name="abort"/>;
    /// keeps those that complete at or after <paramref name="measureFrom"/>.</summary>
    public void Run(long measureFrom, long end, CancellationToken abort)
    {
        Socket? persistent = null;
        int next = _mix.StartOffset(_client);
        try
        {
            persistent = _connectionPerCommand ? null : TpmWire.Connect(_port);
            Prepare(persistent);
            while (!abort.IsCancellationRequested)
            {
                long started = Stopwatch.GetTimestamp();
                if (started >= end)
                {
                    return;
                }

                byte[] command = _commands[next];
                if (ReferenceEquals(command, _nvWrite))
                {
                    // Client in the top byte: concurrent clients never write the same bytes twice in a row.
                    TpmWire.StampNvWrite(_nvWrite, ((uint)_client << 24) | (++_counter & 0xFFFFFF));
                }

                uint code = _mix.Cycle[next] switch
                {
                    VtpmOp.PcrExtendHmac => ExtendWithSession(persistent),
                    VtpmOp.CreatePrimaryEcc => CreateAndFlush(persistent),
                    VtpmOp.Sign => Send(persistent, TpmWire.SignEcdsa(_signingKey)),
                    VtpmOp.Quote => Send(persistent, TpmWire.QuotePcr0And7(_attestationKey)),
                    _ => Send(persistent, command),
                };
                long completed = Stopwatch.GetTimestamp();
                if (code != TpmWire.Success)
                {
                    Failure = $"client {_client}: {_mix.Cycle[next]} answered 0x{code:x}";
                    return;
                }

                if (completed >= measureFrom && completed < end)
                {
                    Latencies.Add(completed - started);
                }

                next = next + 1 == _commands.Length ? 0 : next + 1;
            }
        }
        catch (Exception exception) when (exception is SocketException or IOException)
        {
            Failure = $"client {_client}: {_mix.Cycle[next]}: {exception.GetType().Name}: {exception.Message}";
        }
        finally
        {
            Release(persistent);
            persistent?.Dispose();
        }
    }

    /// <summary>The client's HMAC session and keys, made before the measured loop (not measured).</summary>
    private void Prepare(Socket? persistent)
    {
        if (_mix.NeedsSession)
        {
            RandomNumberGenerator.Fill(_nonceCaller);
            uint code = Send(persistent, TpmWire.StartHmacSession(_nonceCaller));
            TpmWire.Expect(code, "TPM2_StartAuthSession", $"client {_client}");
            _session = BinaryPrimitives.ReadUInt32BigEndian(_response.AsSpan(10));
            _nonceTpm = TpmWire.ResponseNonce(_response).ToArray();
        }

        if (_mix.NeedsSigningKey)
        {
            TpmWire.Expect(Send(persistent, TpmWire.CreatePrimaryEcc(restricted: false)), "TPM2_CreatePrimary (signing key)", $"client {_client}");
            _signingKey = BinaryPrimitives.ReadUInt32BigEndian(_response.AsSpan(10));
        }

        if (_mix.NeedsAttestationKey)
        {
            TpmWire.Expect(Send(persistent, TpmWire.CreatePrimaryEcc(restricted: true)), "TPM2_CreatePrimary (attestation key)", $"client {_client}");
            _attestationKey = BinaryPrimitives.ReadUInt32BigEndian(_response.AsSpan(10));
        }
    }

    /// <summary>Flushes what <see cref="Prepare"/> made, so the next cell finds free slots (best effort).</summary>
    private void Release(Socket? persistent)
    {
        foreach (uint handle in (uint[])[_session, _signingKey, _attestationKey])
        {
            if (handle != 0)
            {
                try
                {
                    Send(persistent, TpmWire.FlushContext(handle));
                }
                catch (Exception exception) when (exception is SocketException or IOException)
                {
                    // The run failed already; the server is stopped after it.
                }
            }
        }
    }

    private uint ExtendWithSession(Socket? persistent)
    {
        BinaryPrimitives.WriteUInt64BigEndian(_nonceCaller, ++_nonceCounter);
        uint code = Send(persistent, TpmWire.PcrExtendHmac(16, _session, _nonceCaller, _nonceTpm));
        if (code == TpmWire.Success)
        {
            _nonceTpm = TpmWire.ResponseNonce(_response).ToArray();
        }

        return code;
    }

    private uint CreateAndFlush(Socket? persistent)
    {
        uint code = Send(persistent, TpmWire.CreatePrimaryEcc(restricted: false));
        return code != TpmWire.Success ? code : Send(persistent, TpmWire.FlushContext(BinaryPrimitives.ReadUInt32BigEndian(_response.AsSpan(10))));
    }

    /// <summary>One command; TPM_RC_RETRY (libtpms answers it to the first use of some paths, e.g. the first
    /// ECDSA signature) is sent again, as a TSS does, up to three times.</summary>
    private uint Send(Socket? persistent, byte[] command)
    {
        uint code = TpmWire.Retry;
        for (int attempt = 0; attempt < 4 && code == TpmWire.Retry; attempt++)
        {
            code = persistent is null ? RoundTripOnNewConnection(command) : TpmWire.RoundTrip(persistent, command, _response);
        }

        return code;
    }

    private uint RoundTripOnNewConnection(byte[] command)
    {
        using Socket socket = TpmWire.Connect(_port);
        return TpmWire.RoundTrip(socket, command, _response);
    }
}
