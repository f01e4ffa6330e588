using System.Buffers.Binary;
using System.Net.Sockets;
using FastPath.Vtpm.Protocol;

namespace FastPath.Vtpm.Pair;

/// <summary>A blocking client of an instance's swtpm control channel (swtpm-ioctls(3), "control commands over
/// socket") on a Unix socket: the state transfer, locality and power cycle of the pair go through it for both
/// kinds of instance, so a real swtpm and our own instance are driven by one code path.</summary>
/// <remarks>Not thread-safe: one connection, one caller; the pair opens one per operation (swtpm serves a single
/// control connection at a time, so holding one open would lock out everyone else).</remarks>
internal sealed class SwtpmControlClient : IDisposable
{
    private readonly Socket _socket;

    private SwtpmControlClient(Socket socket) => _socket = socket;

    public static SwtpmControlClient Open(string path, TimeSpan timeout)
    {
        return new SwtpmControlClient(BlockingSocket.ConnectUnix(path, timeout));
    }

    /// <summary>CMD_GET_CONFIG: answers result and flags; used as a readiness probe.</summary>
    public uint GetConfig()
    {
        Send(ControlCommand.GetConfig, []);
        Span<byte> answer = stackalloc byte[8];
        BlockingSocket.ReceiveExactly(_socket, answer, "the instance\'s control channel");
        return BinaryPrimitives.ReadUInt32BigEndian(answer);
    }

    /// <summary>CMD_STOP: the TPM stops running (swtpm accepts SET_STATEBLOB only then).</summary>
    public uint Stop() => Simple(ControlCommand.Stop, []);

    /// <summary>CMD_INIT with init flags 0: the TPM starts again from its (just set) state blobs; after a volatile
    /// blob was set it resumes that state (no TPM2_Startup needed), otherwise it is freshly powered on.</summary>
    public uint Init()
    {
        Span<byte> flags = stackalloc byte[4];
        return Simple(ControlCommand.Init, flags);
    }

    public uint SetLocality(byte locality) => Simple(ControlCommand.SetLocality, [locality]);

    /// <summary>CMD_GET_STATEBLOB (request: u32 state flags, u32 type, u32 offset; answer: u32 result, u32 state
    /// flags, u32 total length, u32 length, data). Over a socket swtpm sends everything from the offset at once;
    /// asking again from the new offset while bytes are missing also covers a server that sends chunks.</summary>
    public (uint Result, uint Flags, byte[] Blob) GetStateBlob(byte type)
    {
        byte[] blob = [];
        uint offset = 0;
        uint flags = 0;
        Span<byte> request = stackalloc byte[12];
        Span<byte> header = stackalloc byte[16];
        while (true)
        {
            BinaryPrimitives.WriteUInt32BigEndian(request[4..], type);
            BinaryPrimitives.WriteUInt32BigEndian(request[8..], offset);
            Send(ControlCommand.GetStateBlob, request);
            BlockingSocket.ReceiveExactly(_socket, header, "the instance\'s control channel");
            uint result = BinaryPrimitives.ReadUInt32BigEndian(header);
            flags = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
            uint total = BinaryPrimitives.ReadUInt32BigEndian(header[8..]);
            uint length = BinaryPrimitives.ReadUInt32BigEndian(header[12..]);
            if (result != ControlCommand.ResultSuccess)
            {
                return (result, flags, []);
            }

            if (length > InstanceWire.MaxPayload || offset + (ulong)length > InstanceWire.MaxPayload)
            {
                throw new InvalidDataException($"state blob chunk of {length} bytes at offset {offset} is too large");
            }

            if (offset == 0)
            {
                blob = new byte[length];
            }
            else
            {
                Array.Resize(ref blob, (int)(offset + length));
            }

            BlockingSocket.ReceiveExactly(_socket, blob.AsSpan((int)offset, (int)length), "the instance\'s control channel");
            offset += length;
            if (length == 0 || length >= total || offset >= total)
            {
                // swtpm reports the bytes from the requested offset as the total, ours the whole blob: either way
                // nothing is missing once this answer reached the advertised end.
                return (result, flags, blob);
            }
        }
    }

    /// <summary>CMD_SET_STATEBLOB (request: u32 state flags, u32 type, u32 length, data; answer: u32 result),
    /// in one write: the server reads the data in chunks of its own buffer size.</summary>
    public uint SetStateBlob(byte type, uint flags, ReadOnlySpan<byte> blob)
    {
        byte[] request = new byte[4 + 12 + blob.Length];
        BinaryPrimitives.WriteUInt32BigEndian(request, ControlCommand.SetStateBlob);
        BinaryPrimitives.WriteUInt32BigEndian(request.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt32BigEndian(request.AsSpan(8), type);
        BinaryPrimitives.WriteUInt32BigEndian(request.AsSpan(12), (uint)blob.Length);
        blob.CopyTo(request.AsSpan(16));
        BlockingSocket.SendAll(_socket, request);
        Span<byte> answer = stackalloc byte[4];
        BlockingSocket.ReceiveExactly(_socket, answer, "the instance\'s control channel");
        return BinaryPrimitives.ReadUInt32BigEndian(answer);
    }

    private uint Simple(uint code, ReadOnlySpan<byte> body)
    {
        Send(code, body);
        Span<byte> answer = stackalloc byte[4];
        BlockingSocket.ReceiveExactly(_socket, answer, "the instance\'s control channel");
        return BinaryPrimitives.ReadUInt32BigEndian(answer);
    }

    /// <summary>The code and body in one write: swtpm gives a control command 500 ms to arrive completely.</summary>
    private void Send(uint code, ReadOnlySpan<byte> body)
    {
        Span<byte> request = stackalloc byte[4 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(request, code);
        body.CopyTo(request[4..]);
        BlockingSocket.SendAll(_socket, request);
    }

    public void Dispose() => _socket.Dispose();
}
