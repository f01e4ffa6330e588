using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Protocol;
using FastPath.Vtpm.State;

namespace FastPath.Vtpm.Pair;

/// <summary>One vTPM instance of the pair (<c>fastpath vtpm instance</c>): an engine with its own durable
/// state directory, served to the controller over a Unix socket (<see cref="InstanceWire"/>), one blocking
/// thread per connection so a request costs one wake-up, not a thread-pool hop, and the swtpm control channel
/// (<see cref="ControlListener"/>) on a second Unix socket, so the controller moves state blobs, locality and power
/// cycles the same way for this instance as for a real swtpm.</summary>
/// <remarks>Thread-safe: connections are served concurrently; <see cref="_commandLock"/> makes "set the entropy,
/// execute, count what was consumed" one step; a durable answer waits outside it, so concurrent commands share one
/// state write (the group commit of <see cref="SwtpmServer"/>).</remarks>
public sealed class InstanceServer : IDisposable
{
    /// <summary>`pair` durability aims at a change on disk within 10 ms of its acknowledgement: once the oldest
    /// unwritten change is this old, answers wait for the disk, and one save takes 2-3 ms here, which leaves room.</summary>
    private static readonly TimeSpan PersistBound = TimeSpan.FromMilliseconds(3);

    private const int DigestSize = 32;

    private readonly Lock _commandLock = new();
    private readonly SwtpmServer _server;
    private readonly Socket _listener;
    private readonly ControlListener _control;
    private volatile bool _stopping;

    public InstanceServer(string stateDirectory, string socketPath, string controlPath)
    {
        _server = new SwtpmServer(new StateStore(stateDirectory)) { KeepStateBlobsOnFullDisk = true };
        foreach (string path in (string[])[socketPath, controlPath])
        {
            if (File.Exists(path))
            {
                // A stale socket of a killed predecessor: bind would fail with EADDRINUSE.
                File.Delete(path);
            }
        }

        // Both 0600: the controller (same user) moves state blobs over the control socket.
        _control = new ControlListener(_server) { AllowStateCommands = true };
        _control.Listen(new UnixDomainSocketEndPoint(controlPath), sendOptions: SwtpmServer.SendOptions, receiveOptions: SwtpmServer.ReceiveOptions);
        _listener = UnixSocketPath.Listen(socketPath, 64);
    }

    /// <summary>Accepts connections until disposed; completes then.</summary>
    public Task RunAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var accept = new Thread(() =>
        {
            AcceptLoop();
            done.TrySetResult();
        }) { IsBackground = true, Name = "vtpm-instance-accept" };
        accept.Start();
        return done.Task;
    }

    private void AcceptLoop()
    {
        while (!_stopping)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
                return;
            }

            new Thread(() => Serve(client)) { IsBackground = true, Name = "vtpm-instance-link" }.Start();
        }
    }

    private void Serve(Socket client)
    {
        byte[] request = new byte[TpmConstants.MaxCommandSize + 64];
        byte[] answer = new byte[VtpmEngine.ResponseBufferSize + 64];
        byte[] header = new byte[InstanceWire.HeaderSize];
        using (client)
        {
            try
            {
                while (ReadFrame(client, header, atStart: true))
                {
                    int length = InstanceWire.PayloadLength(header);
                    if (request.Length < length)
                    {
                        request = new byte[length];
                    }

                    ReadFrame(client, request.AsSpan(0, length), atStart: false);
                    if (header[0] == InstanceWire.Execute)
                    {
                        // The hot path answers from reusable buffers.
                        int written = Execute(request.AsSpan(0, length), answer.AsSpan(InstanceWire.HeaderSize), out byte status);
                        InstanceWire.WriteHeader(answer, status, written);
                        BlockingSocket.SendAll(client, answer.AsSpan(0, InstanceWire.HeaderSize + written));
                        continue;
                    }

                    (byte code, byte[] payload) = Handle(header[0], request.AsSpan(0, length));
                    InstanceWire.WriteHeader(header, code, payload.Length);
                    BlockingSocket.SendAll(client, header);
                    BlockingSocket.SendAll(client, payload);
                }
            }
            catch (Exception exception) when (exception is IOException or SocketException or InvalidDataException or ObjectDisposedException)
            {
                // The controller went away or sent garbage: this connection ends, the instance keeps serving others.
                if (!_stopping)
                {
                    Console.Error.WriteLine($"fastpath: vtpm instance: connection closed: {exception.Message}");
                }
            }
        }
    }

    private (byte Status, byte[] Payload) Handle(byte op, ReadOnlySpan<byte> payload)
    {
        switch (op)
        {
            case InstanceWire.Digest:
                return (InstanceWire.StatusOk, _server.StateDigest());
            case InstanceWire.Ping:
                byte[] pid = new byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(pid, (uint)Environment.ProcessId);
                return (InstanceWire.StatusOk, pid);
            case InstanceWire.Persistence:
                (long saves, double lastMs, double maxMs) = _server.PersistLag();
                byte[] lag = new byte[24];
                BinaryPrimitives.WriteInt64BigEndian(lag, saves);
                BinaryPrimitives.WriteDoubleBigEndian(lag.AsSpan(8), lastMs);
                BinaryPrimitives.WriteDoubleBigEndian(lag.AsSpan(16), maxMs);
                return (InstanceWire.StatusOk, lag);
            case InstanceWire.Entropy:
                return (InstanceWire.StatusOk, RandomNumberGenerator.GetBytes(InstanceWire.EntropySize));
            case InstanceWire.Flush:
                return (_server.FlushNow() ? InstanceWire.StatusOk : InstanceWire.StatusError, []);
            case InstanceWire.TakeVolatile:
                return (InstanceWire.StatusOk, _server.TakeVolatile());
            case InstanceWire.AdoptVolatile:
                return payload.Length > 1 + DigestSize
                    && _server.AdoptVolatile(payload.Slice(1, DigestSize), payload[(1 + DigestSize)..].ToArray(), (payload[0] & InstanceWire.FlagDurable) != 0)
                    ? (InstanceWire.StatusOk, [])
                    : (InstanceWire.StatusError, []);
            default:
                return (InstanceWire.StatusError, []);
        }
    }

    /// <summary>Runs one TPM command as <see cref="InstanceWire.Execute"/> describes; returns the answer's length.</summary>
    private int Execute(ReadOnlySpan<byte> request, Span<byte> answer, out byte status)
    {
        status = InstanceWire.StatusError;
        if (request.Length < 1)
        {
            return 0;
        }

        byte flags = request[0];
        int entropyLength = (flags & InstanceWire.FlagEntropy) != 0 ? InstanceWire.EntropySize : 0;
        if (request.Length < 1 + entropyLength)
        {
            return 0;
        }

        ReadOnlySpan<byte> entropy = request.Slice(1, entropyLength);
        ReadOnlySpan<byte> command = request[(1 + entropyLength)..];
        Span<byte> response = answer[4..];
        int length;
        long durableVersion;
        bool durable = (flags & InstanceWire.FlagDurable) != 0;

        // Decided before the command runs, so a change that will wait can be undone if the disk refuses it: the
        // controller asked for durability, the disk is behind, or the last save failed (a full disk: changes are
        // then refused, not acknowledged from memory).
        bool wait = durable || _server.DiskBehind(PersistBound) || _server.SaveFailing;
        lock (_commandLock)
        {
            length = _server.Execute(command, response, out durableVersion, undoable: wait);
        }

        // libtpms takes no supplied entropy (the pair keeps its instances in DRBG lockstep instead, and never
        // supplies any: CanReplayEntropy is false): nothing supplied is used, nothing is counted as drawn.
        const int drawn = 0;
        int unused = entropy.Length;

        if (_server.Acknowledged(durableVersion))
        {
            // It observed nothing unacknowledged (a read, or a command that changed nothing): it leaves now, also
            // while the disk refuses every write (a lone survivor's too: what it acknowledged earlier is written
            // when the disk takes it, see SwtpmServer.RollBack; the controller's Flush waits for that).
        }
        else if (wait)
        {
            if (!_server.WaitDurable(durableVersion))
            {
                length = TpmBackend.NvUnavailable(response);
            }
        }
        else
        {
            // Pair durability: the answer leaves now, the write to disk starts now (group-committed).
            _server.RequestFlush(durableVersion);
        }

        BinaryPrimitives.WriteUInt32BigEndian(answer, (uint)length);
        int offset = 4 + length;
        BinaryPrimitives.WriteUInt32BigEndian(answer[offset..], (uint)drawn);
        BinaryPrimitives.WriteUInt32BigEndian(answer[(offset + 4)..], (uint)unused);
        offset += 8;
        if ((flags & InstanceWire.FlagNextEntropy) != 0)
        {
            RandomNumberGenerator.Fill(answer.Slice(offset, InstanceWire.EntropySize));
            offset += InstanceWire.EntropySize;
        }

        status = InstanceWire.StatusOk;
        return offset;
    }

    /// <summary>Fills <paramref name="destination"/>; false at a clean end of stream before the first byte of a frame.</summary>
    private static bool ReadFrame(Socket socket, Span<byte> destination, bool atStart)
    {
        int got = BlockingSocket.Fill(socket, destination);
        if (got == destination.Length)
        {
            return true;
        }

        return got == 0 && atStart ? false : throw new EndOfStreamException("the controller closed the connection inside a frame");
    }

    public void Dispose()
    {
        _stopping = true;
        _listener.Dispose();
        _control.Dispose();
        _server.Dispose();
    }
}
