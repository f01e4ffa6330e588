using System.Net.Sockets;
using FastPath.Vtpm.Protocol;

namespace FastPath.Vtpm.Pair;

/// <summary>One blocking Unix-socket connection to an instance with reusable buffers: a request is one send(2),
/// its answer lands in <see cref="Payload"/>, valid until the next request on this connection. Timeouts are the
/// socket's own (SO_SNDTIMEO/SO_RCVTIMEO), so a call allocates nothing and arms no timer.</summary>
/// <remarks>Not thread-safe: one caller at a time, which the pool in <see cref="PairMember"/> guarantees.</remarks>
internal sealed class InstanceConnection : IDisposable
{
    private readonly Socket _socket;
    private byte[] _send = new byte[8192];
    private byte[] _receive = new byte[8192];
    private int _length;

    private InstanceConnection(Socket socket, int generation)
    {
        _socket = socket;
        Generation = generation;
    }

    /// <summary>The instance start this connection belongs to; a connection of an earlier start is never reused.</summary>
    public int Generation { get; }

    /// <summary>When the pending request was sent (Stopwatch ticks), for the service-time average.</summary>
    public long SentAt { get; private set; }

    public byte Status { get; private set; }

    public ReadOnlySpan<byte> Payload => _receive.AsSpan(0, _length);

    public static InstanceConnection Open(string path, TimeSpan timeout, int generation)
    {
        return new InstanceConnection(BlockingSocket.ConnectUnix(path, timeout), generation);
    }

    /// <summary>Sends op and the payload <paramref name="head"/> followed by <paramref name="body"/> in one write.</summary>
    public void Send(byte op, ReadOnlySpan<byte> head, ReadOnlySpan<byte> body)
    {
        int total = InstanceWire.HeaderSize + head.Length + body.Length;
        if (_send.Length < total)
        {
            _send = new byte[Math.Max(total, _send.Length * 2)];
        }

        InstanceWire.WriteHeader(_send, op, head.Length + body.Length);
        head.CopyTo(_send.AsSpan(InstanceWire.HeaderSize));
        body.CopyTo(_send.AsSpan(InstanceWire.HeaderSize + head.Length));
        SentAt = System.Diagnostics.Stopwatch.GetTimestamp();
        BlockingSocket.SendAll(_socket, _send.AsSpan(0, total));
    }

    /// <summary>Sends <paramref name="data"/> as it is (a raw TPM command to a swtpm command channel).</summary>
    public void SendRaw(ReadOnlySpan<byte> data)
    {
        SentAt = System.Diagnostics.Stopwatch.GetTimestamp();
        BlockingSocket.SendAll(_socket, data);
    }

    /// <summary>Reads one raw TPM response (its size is in its header) into <see cref="Payload"/>; status 0.</summary>
    public void ReceiveTpmResponse()
    {
        Span<byte> header = _receive.AsSpan(0, 10);
        BlockingSocket.ReceiveExactly(_socket, header, "the instance");
        uint size = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header[2..]);
        if (size is < 10 or > InstanceWire.MaxPayload)
        {
            throw new InvalidDataException($"TPM response of {size} bytes");
        }

        if (_receive.Length < size)
        {
            byte[] larger = new byte[Math.Max((int)size, _receive.Length * 2)];
            _receive.AsSpan(0, 10).CopyTo(larger);
            _receive = larger;
        }

        BlockingSocket.ReceiveExactly(_socket, _receive.AsSpan(10, (int)size - 10), "the instance");
        Status = InstanceWire.StatusOk;
        _length = (int)size;
    }

    /// <summary>Reads one answer frame into <see cref="Status"/> and <see cref="Payload"/>.</summary>
    public void Receive()
    {
        Span<byte> header = stackalloc byte[InstanceWire.HeaderSize];
        BlockingSocket.ReceiveExactly(_socket, header, "the instance");
        int length = InstanceWire.PayloadLength(header);
        if (_receive.Length < length)
        {
            _receive = new byte[Math.Max(length, _receive.Length * 2)];
        }

        BlockingSocket.ReceiveExactly(_socket, _receive.AsSpan(0, length), "the instance");
        Status = header[0];
        _length = length;
    }

    public void Dispose() => _socket.Dispose();
}
