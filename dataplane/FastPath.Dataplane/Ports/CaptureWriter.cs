namespace FastPath.Dataplane.Ports;

/// <summary>
/// Writes Ethernet frames to a pcap or pcapng file in little-endian byte order, buffered; writing
/// a packet allocates nothing.
/// </summary>
/// <remarks>Not thread-safe: one thread writes a writer.</remarks>
public abstract class CaptureWriter : IDisposable
{
    // One buffer in front of the file: records are small, and the OS write per 1 MiB is what costs.
    private const int BufferSize = 1 << 20;
    private readonly FileStream _stream;
    private bool _disposed;

    private protected CaptureWriter(string path, CaptureFormat format)
    {
        Path = path;
        Format = format;
        _stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, BufferSize);
    }

    /// <summary>The file being written.</summary>
    public string Path { get; }

    /// <summary>Container, timestamp resolution and snap length of the output.</summary>
    public CaptureFormat Format { get; }

    /// <summary>Number of packets written.</summary>
    public long PacketsWritten { get; private set; }

    /// <summary>Creates <paramref name="path"/> (replacing it) and writes the file header for <paramref name="format"/>.</summary>
    public static CaptureWriter Create(string path, CaptureFormat format) => format.Kind switch
    {
        CaptureFileKind.Pcap => new PcapWriter(path, format),
        CaptureFileKind.PcapNg => new PcapNgWriter(path, format),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format.Kind, "unknown capture file kind"),
    };

    /// <summary>Appends one frame.</summary>
    /// <param name="frame">The bytes to store (at most <see cref="CaptureFormat.MaxSnapLength"/>).</param>
    /// <param name="timestampNanoseconds">Capture time, nanoseconds since the Unix epoch (not negative).</param>
    /// <param name="originalLength">Length on the wire; at least <c>frame.Length</c>.</param>
    public void Write(ReadOnlySpan<byte> frame, long timestampNanoseconds, int originalLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(frame.Length, CaptureFormat.MaxSnapLength, nameof(frame));
        ArgumentOutOfRangeException.ThrowIfNegative(timestampNanoseconds);
        WriteRecord(frame, timestampNanoseconds, Math.Max(originalLength, frame.Length));
        PacketsWritten++;
    }

    /// <inheritdoc cref="Write(ReadOnlySpan{byte}, long, int)"/>
    public void Write(ReadOnlySpan<byte> frame, long timestampNanoseconds) => Write(frame, timestampNanoseconds, frame.Length);

    /// <summary>Pushes buffered records to the file.</summary>
    public void Flush() => _stream.Flush();

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _stream.Dispose();
        GC.SuppressFinalize(this);
    }

    private protected abstract void WriteRecord(ReadOnlySpan<byte> frame, long timestampNanoseconds, int originalLength);

    private protected void WriteBytes(ReadOnlySpan<byte> bytes) => _stream.Write(bytes);
}
