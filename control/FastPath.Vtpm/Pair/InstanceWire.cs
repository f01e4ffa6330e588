using System.Buffers.Binary;

namespace FastPath.Vtpm.Pair;

/// <summary>The controller ↔ instance protocol on the instance's Unix socket: a frame is a one-byte op (request)
/// or status (response, 0 = ok), a big-endian u32 payload length and the payload. One request, then its answer,
/// per connection at a time; the controller keeps a pool of connections per instance. State blobs, locality and
/// power cycles are not here: they use the swtpm control channel, as for a real swtpm instance.</summary>
/// <remarks>Constants and stateless helpers; thread-safe.</remarks>
internal static class InstanceWire
{
    /// <summary>u8 flags (<see cref="FlagDurable"/>, <see cref="FlagEntropy"/>, <see cref="FlagNextEntropy"/>),
    /// the 32 entropy bytes when <see cref="FlagEntropy"/>, the command →
    /// u32 response length, response, u32 entropy bytes drawn from the instance's own system source,
    /// u32 supplied entropy bytes left unused, and 32 fresh entropy bytes when <see cref="FlagNextEntropy"/>.</summary>
    public const byte Execute = 1;

    /// <summary>→ SHA-256 of the full state.</summary>
    public const byte Digest = 4;

    /// <summary>→ u32 process id.</summary>
    public const byte Ping = 7;

    /// <summary>→ 32 bytes from the instance's system entropy source (the master generates the random number).</summary>
    public const byte Entropy = 8;

    /// <summary>→ empty once every state change made so far is on disk (a survivor before it acknowledges alone).</summary>
    public const byte Flush = 9;

    /// <summary>→ u64 saves, f64 last and f64 maximum persistence lag in ms (big-endian): how long changes wait
    /// for the disk.</summary>
    public const byte Persistence = 10;

    /// <summary>→ the SHA-256 state digest (32 bytes) and the volatile state blob: the master's side of a hand-over
    /// (a command the slave cannot reproduce ran on the master alone).</summary>
    public const byte TakeVolatile = 11;

    /// <summary>u8 flags (<see cref="FlagDurable"/>), the master's 32-byte digest and its volatile blob → empty when
    /// the instance holds the same permanent state (equal digest) and resumed from the blob; an error status when
    /// it does not or refused the blob (the controller then copies the full state over the control channel).</summary>
    public const byte AdoptVolatile = 12;

    /// <summary>Answer only once the command's state change is on disk (sync mode, or an instance serving alone).</summary>
    public const byte FlagDurable = 1;

    /// <summary>The command's entropy is supplied (the master's random number): consume it instead of drawing.</summary>
    public const byte FlagEntropy = 2;

    /// <summary>Append 32 fresh entropy bytes for the next RANDOM command this instance is master of.</summary>
    public const byte FlagNextEntropy = 4;

    /// <summary>Entropy per RANDOM command: the engine reseeds its DRBG with exactly this many bytes per command.</summary>
    public const int EntropySize = 32;

    public const byte StatusOk = 0;
    public const byte StatusError = 1;

    public const int HeaderSize = 5;

    /// <summary>Frames larger than this are refused (a full state blob with 64 sessions stays far below).</summary>
    public const int MaxPayload = 4 << 20;

    public static void WriteHeader(Span<byte> destination, byte op, int payloadLength)
    {
        destination[0] = op;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)payloadLength);
    }

    /// <summary>The payload length of a received header; a length above <see cref="MaxPayload"/> breaks the stream.</summary>
    public static int PayloadLength(ReadOnlySpan<byte> header)
    {
        uint length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
        return length <= MaxPayload ? (int)length : throw new InvalidDataException($"instance frame of {length} bytes exceeds {MaxPayload}");
    }
}
