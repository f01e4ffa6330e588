using System.Buffers.Binary;

namespace FastPath.Vtpm.Pair;

/// <summary>The controller ↔ instance protocol on the instance's Unix socket: a frame is a one-byte op (request)
/// or status (response, 0 = ok), a big-endian u32 payload length and the payload.</summary>
/// <remarks>Stateless helpers; a stream is used by one caller at a time.</remarks>
internal static class InstanceWire
{
    /// <summary>u32 replay length (0xFFFFFFFF: none, run as master), replay bytes, command →
    /// u32 response length, response, the random bytes the command consumed as master, u32 unused replay bytes.</summary>
    public const byte Execute = 1;

    /// <summary>u8 blob type (swtpm GET_STATEBLOB types: 1 persistent, 2 full state) → blob.</summary>
    public const byte GetBlob = 2;

    /// <summary>u8 blob type, blob → empty once the state is durable.</summary>
    public const byte SetBlob = 3;

    /// <summary>→ SHA-256 of the full state.</summary>
    public const byte Digest = 4;

    /// <summary>u8 locality → empty.</summary>
    public const byte Locality = 5;

    /// <summary>→ empty (swtpm CMD_INIT: power cycle).</summary>
    public const byte PowerCycle = 6;

    /// <summary>→ u32 process id.</summary>
    public const byte Ping = 7;

    public const byte StatusOk = 0;
    public const byte StatusError = 1;

    /// <summary>Frames larger than this are refused (a full state blob with 64 sessions stays far below).</summary>
    public const int MaxPayload = 4 << 20;

    public static async ValueTask WriteAsync(Stream stream, byte op, ReadOnlyMemory<byte> payload, CancellationToken cancel)
    {
        byte[] frame = new byte[5 + payload.Length];
        frame[0] = op;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)payload.Length);
        payload.CopyTo(frame.AsMemory(5));
        await stream.WriteAsync(frame, cancel).ConfigureAwait(false);
    }

    /// <summary>Reads one frame; null at a clean end of stream before its first byte.</summary>
    public static async ValueTask<(byte Op, byte[] Payload)?> ReadAsync(Stream stream, CancellationToken cancel)
    {
        byte[] header = new byte[5];
        int got = await stream.ReadAtLeastAsync(header, 5, throwOnEndOfStream: false, cancel).ConfigureAwait(false);
        if (got == 0)
        {
            return null;
        }

        if (got < 5)
        {
            throw new EndOfStreamException("instance stream ended inside a frame header");
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
        if (length > MaxPayload)
        {
            throw new InvalidDataException($"instance frame of {length} bytes exceeds {MaxPayload}");
        }

        byte[] payload = new byte[length];
        await stream.ReadExactlyAsync(payload, cancel).ConfigureAwait(false);
        return (header[0], payload);
    }
}
