namespace FastPath.Dataplane.Ports;

/// <summary>
/// One record of a capture file. <see cref="Data"/> points into the reader's mapping of the file and is
/// valid until the reader moves on or is disposed; copy it to keep it.
/// </summary>
public readonly ref struct CapturedPacket
{
    /// <summary>Creates a packet view.</summary>
    public CapturedPacket(ReadOnlySpan<byte> data, long timestampNanoseconds, int originalLength, long fileOffset)
    {
        Data = data;
        TimestampNanoseconds = timestampNanoseconds;
        OriginalLength = originalLength;
        FileOffset = fileOffset;
    }

    /// <summary>The captured bytes, starting at the Ethernet header.</summary>
    public ReadOnlySpan<byte> Data { get; }

    /// <summary>Capture time in nanoseconds since the Unix epoch.</summary>
    public long TimestampNanoseconds { get; }

    /// <summary>Length of the packet on the wire (may exceed <c>Data.Length</c> when the capture was truncated).</summary>
    public int OriginalLength { get; }

    /// <summary>Byte offset of the record (or block) in the file.</summary>
    public long FileOffset { get; }
}
