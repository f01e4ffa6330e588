using System.Buffers.Binary;
using System.Net.Sockets;

namespace FastPath.Vtpm.Tests.Infrastructure;

/// <summary>Sends raw TPM command bytes to a server's command port and reads one response (framed by its
/// size field), for the cases tpm2-tools refuses to send (writes past an index, malformed buffers).</summary>
/// <remarks>Not thread-safe; one connection per instance.</remarks>
internal sealed class RawTpmClient : IDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;

    public RawTpmClient(int port)
    {
        _client = new TcpClient("127.0.0.1", port) { NoDelay = true };
        _stream = _client.GetStream();
        _stream.ReadTimeout = 10_000;
    }

    public static byte[] Once(int port, byte[] command)
    {
        using var client = new RawTpmClient(port);
        return client.Send(command);
    }

    public byte[] Send(ReadOnlySpan<byte> command)
    {
        _stream.Write(command);
        return ReadResponse();
    }

    public byte[] ReadResponse()
    {
        byte[] header = new byte[10];
        _stream.ReadExactly(header);
        uint size = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(2));
        byte[] response = new byte[size];
        header.CopyTo(response, 0);
        _stream.ReadExactly(response.AsSpan(10));
        return response;
    }

    public static uint Code(byte[] response) => BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6));

    public void Dispose()
    {
        _stream.Dispose();
        _client.Dispose();
    }
}
