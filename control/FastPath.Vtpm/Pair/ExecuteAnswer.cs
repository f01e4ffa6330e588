using System.Buffers.Binary;

namespace FastPath.Vtpm.Pair;

/// <summary>An instance's answer to <see cref="InstanceWire.Execute"/>, read in place from the connection's
/// buffer (valid until the connection is given back).</summary>
/// <remarks>A view on one connection's buffer; used by the thread that owns the connection.</remarks>
internal readonly ref struct ExecuteAnswer
{
    private ExecuteAnswer(ReadOnlySpan<byte> response, uint drawn, uint unused, ReadOnlySpan<byte> nextEntropy)
    {
        Response = response;
        Drawn = drawn;
        Unused = unused;
        NextEntropy = nextEntropy;
    }

    public ReadOnlySpan<byte> Response { get; }

    /// <summary>Entropy bytes the instance drew from its own system source.</summary>
    public uint Drawn { get; }

    /// <summary>Supplied entropy bytes the command left unused.</summary>
    public uint Unused { get; }

    /// <summary>32 fresh bytes when requested, else empty.</summary>
    public ReadOnlySpan<byte> NextEntropy { get; }

    public static bool TryParse(ReadOnlySpan<byte> payload, out ExecuteAnswer answer)
    {
        answer = default;
        if (payload.Length < 12)
        {
            return false;
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(payload);
        if (length > payload.Length - 12)
        {
            return false;
        }

        int end = 4 + (int)length;
        int rest = payload.Length - end - 8;
        if (rest != 0 && rest != InstanceWire.EntropySize)
        {
            return false;
        }

        answer = new ExecuteAnswer(
            payload.Slice(4, (int)length),
            BinaryPrimitives.ReadUInt32BigEndian(payload[end..]),
            BinaryPrimitives.ReadUInt32BigEndian(payload[(end + 4)..]),
            payload[(end + 8)..]);
        return true;
    }

    /// <summary>The answer of an instance that only speaks TPM (swtpm): the response, nothing drawn or left.</summary>
    public static ExecuteAnswer FromResponse(ReadOnlySpan<byte> response) => new(response, 0, 0, []);

    public int CopyResponse(Span<byte> destination)
    {
        Response.CopyTo(destination);
        return Response.Length;
    }
}
