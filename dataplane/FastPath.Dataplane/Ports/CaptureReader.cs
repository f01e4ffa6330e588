using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// Reads pcap or pcapng files of Ethernet frames. The file is memory-mapped, so reading a packet
/// allocates nothing: each <see cref="CapturedPacket"/> is a view into the mapping.
/// </summary>
/// <remarks>Not thread-safe: one thread reads a reader; the spans it returns die with the reader.</remarks>
public abstract unsafe class CaptureReader : IDisposable
{
    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;
    private bool _disposed;

    private protected CaptureReader(string path, MemoryMappedFile? file, MemoryMappedViewAccessor? view, byte* start, long length)
    {
        Path = path;
        _file = file;
        _view = view;
        Start = start;
        Length = length;
    }

    /// <summary>The file being read.</summary>
    public string Path { get; }

    /// <summary>The format to write so that output matches this input.</summary>
    public abstract CaptureFormat Format { get; }

    /// <summary>Number of packets returned so far.</summary>
    public long PacketsRead { get; private protected set; }

    /// <summary>First byte of the mapping.</summary>
    private protected byte* Start { get; }

    /// <summary>Length of the file in bytes.</summary>
    private protected long Length { get; }

    /// <summary>Opens <paramref name="path"/>, detecting pcap (either byte order, µs or ns) or pcapng by its magic.</summary>
    /// <exception cref="CaptureFileException">The file is empty, too short, or neither format.</exception>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    public static CaptureReader Open(string path)
    {
        long length = new FileInfo(path).Length;
        if (length < 4)
        {
            throw new CaptureFileException(path, 0, length == 0 ? "empty file" : "truncated file header");
        }

        MemoryMappedFile file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* start = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
            start += view.PointerOffset;

            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(start, 4));
            return magic switch
            {
                PcapReader.MagicMicroseconds or PcapReader.MagicNanoseconds
                    or PcapReader.MagicMicrosecondsSwapped or PcapReader.MagicNanosecondsSwapped
                    => new PcapReader(path, file, view, start, length, magic),
                PcapNgReader.SectionHeaderBlockType => new PcapNgReader(path, file, view, start, length),
                _ => throw new CaptureFileException(path, 0, $"not a pcap or pcapng file (magic 0x{magic:x8})"),
            };
        }
        catch
        {
            if (view is not null)
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
                view.Dispose();
            }

            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads the next packet; false at the end of the file.</summary>
    /// <exception cref="CaptureFileException">The next record is malformed; the message has its offset.</exception>
    public abstract bool TryReadNext(out CapturedPacket packet);

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }

        _file?.Dispose();
        GC.SuppressFinalize(this);
    }

    private protected ReadOnlySpan<byte> Bytes(long offset, int count) => new(Start + offset, count);

    private protected CaptureFileException Error(long offset, string reason) => new(Path, offset, reason);
}
