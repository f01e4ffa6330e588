using System.Buffers.Binary;
using System.Net.Sockets;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Protocol;
using FastPath.Vtpm.State;

namespace FastPath.Vtpm.Pair;

/// <summary>One vTPM instance of the pair (<c>fastpath vtpm instance</c>): an engine with its own durable
/// state directory, served to the controller over a Unix socket (<see cref="InstanceWire"/>).</summary>
/// <remarks>Thread-safe: connections are served concurrently; <see cref="_commandLock"/> makes "set the random
/// mode, execute, collect the recorded bytes" one step; the response waits for durability outside it, so
/// concurrent commands share one state write (the group commit of <see cref="SwtpmServer"/>).</remarks>
public sealed class InstanceServer : IDisposable
{
    private readonly Lock _commandLock = new();
    private readonly PairRandomSource _random = new();
    private readonly SwtpmServer _server;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();

    public InstanceServer(string stateDirectory, string socketPath)
    {
        _server = new SwtpmServer(new StateStore(stateDirectory), _random);
        if (File.Exists(socketPath))
        {
            // A stale socket of a killed predecessor: bind would fail with EADDRINUSE.
            File.Delete(socketPath);
        }

        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        _listener.Listen(16);
    }

    /// <summary>Accepts connections until disposed.</summary>
    public async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        byte[] response = new byte[TpmEngine.ResponseBufferSize];
        await using var stream = new NetworkStream(client, ownsSocket: true);
        try
        {
            while (await InstanceWire.ReadAsync(stream, _stop.Token).ConfigureAwait(false) is { } request)
            {
                (byte status, byte[] payload) = await HandleAsync(request.Op, request.Payload, response).ConfigureAwait(false);
                await InstanceWire.WriteAsync(stream, status, payload, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is IOException or SocketException or InvalidDataException or OperationCanceledException)
        {
            // The controller went away or sent garbage: this connection ends, the instance keeps serving others.
            Console.Error.WriteLine($"fastpath: vtpm instance: connection closed: {exception.Message}");
        }
    }

    private async ValueTask<(byte Status, byte[] Payload)> HandleAsync(byte op, byte[] payload, byte[] response)
    {
        switch (op)
        {
            case InstanceWire.Execute:
                return await ExecuteAsync(payload, response).ConfigureAwait(false);
            case InstanceWire.GetBlob when payload.Length == 1:
                return (InstanceWire.StatusOk, _server.GetStateBlob(payload[0]));
            case InstanceWire.SetBlob when payload.Length >= 1:
                bool ok = await _server.SetStateBlobAsync(payload[0], payload[1..]).ConfigureAwait(false);
                return (ok ? InstanceWire.StatusOk : InstanceWire.StatusError, []);
            case InstanceWire.Digest:
                return (InstanceWire.StatusOk, _server.StateDigest());
            case InstanceWire.Locality when payload.Length == 1 && payload[0] <= 4:
                _server.SetLocality(payload[0]);
                return (InstanceWire.StatusOk, []);
            case InstanceWire.PowerCycle:
                _server.PowerCycle();
                return (InstanceWire.StatusOk, []);
            case InstanceWire.Ping:
                byte[] pid = new byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(pid, (uint)Environment.ProcessId);
                return (InstanceWire.StatusOk, pid);
            default:
                return (InstanceWire.StatusError, []);
        }
    }

    private async ValueTask<(byte Status, byte[] Payload)> ExecuteAsync(byte[] payload, byte[] response)
    {
        if (payload.Length < 4)
        {
            return (InstanceWire.StatusError, []);
        }

        uint replayLength = BinaryPrimitives.ReadUInt32BigEndian(payload);
        byte[]? replay = null;
        int commandStart = 4;
        if (replayLength != uint.MaxValue)
        {
            if (replayLength > payload.Length - 4)
            {
                return (InstanceWire.StatusError, []);
            }

            replay = payload.AsSpan(4, (int)replayLength).ToArray();
            commandStart += (int)replayLength;
        }

        int length;
        long durableVersion;
        byte[] recorded;
        int unused;
        lock (_commandLock)
        {
            _random.Begin(replay);
            length = _server.Execute(payload.AsSpan(commandStart), response, out durableVersion);
            (recorded, unused) = _random.End();
        }

        if (!await _server.WaitDurableAsync(durableVersion).ConfigureAwait(false))
        {
            length = TpmBackend.NvUnavailable(response);
        }

        byte[] result = new byte[4 + length + recorded.Length + 4];
        BinaryPrimitives.WriteUInt32BigEndian(result, (uint)length);
        response.AsSpan(0, length).CopyTo(result.AsSpan(4));
        recorded.CopyTo(result, 4 + length);
        BinaryPrimitives.WriteUInt32BigEndian(result.AsSpan(result.Length - 4), (uint)unused);
        return (InstanceWire.StatusOk, result);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Dispose();
        _server.Dispose();
        _stop.Dispose();
    }
}
