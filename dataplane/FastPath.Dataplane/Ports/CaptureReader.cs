using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// Reads pcap or pcapng files of Ethernet frames. The file is read with pread(2) into one reused window, not
/// memory-mapped: another process may truncate a capture while it is read, and a mapping then faults (SIGBUS,
/// which .NET cannot survive) where a read just comes back short, reported as an <see cref="IOException"/>.
/// Reading a packet allocates nothing: each <see cref="CapturedPacket"/> is a view into the window.
/// </summary>
/// <remarks>Not thread-safe: one thread reads a reader; a packet's span is valid until the next read.</remarks>
public abstract class CaptureReader : IDisposable
{
    /// <summary>Bytes read per refill: a few hundred packets, and more than the largest record the readers
    /// ask for at once (<see cref="CaptureFormat.MaxSnapLength"/> plus its headers).</summary>
    private const int WindowBytes = 1 << 20;

    private readonly SafeFileHandle _file;
    private byte[] _window = new byte[WindowBytes];
    private long _windowStart;
    private int _windowLength;

    private protected CaptureReader(string path, SafeFileHandle file, long length)
    {
        Path = path;
        _file = file;
        Length = length;
    }

    /// <summary>The file being read.</summary>
    public string Path { get; }

    /// <summary>The format to write so that output matches this input.</summary>
    public abstract CaptureFormat Format { get; }

    /// <summary>Number of packets returned so far.</summary>
    public long PacketsRead { get; private protected set; }

    /// <summary>Length of the file in bytes when it was opened.</summary>
    private protected long Length { get; }

    /// <summary>Opens <paramref name="path"/>, detecting pcap (either byte order, µs or ns) or pcapng by its magic.</summary>
    /// <exception cref="CaptureFileException">The file is empty, too short, or neither format.</exception>
    /// <exception cref="InvalidDataException">The path is not a regular file (a FIFO, a device...).</exception>
    /// <exception cref="IOException">The file cannot be opened, or shrank while it was read.</exception>
    public static CaptureReader Open(string path)
    {
        SafeFileHandle file = InputFile.OpenRead(path, long.MaxValue, out long length);
        try
        {
            if (length < 4)
            {
                throw new CaptureFileException(path, 0, length == 0 ? "empty file" : "truncated file header");
            }

            Span<byte> first = stackalloc byte[4];
            if (RandomAccess.Read(file, first, 0) < 4)
            {
                throw Shrank(path, 0, length);
            }

            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(first);
            return magic switch
            {
                PcapReader.MagicMicroseconds or PcapReader.MagicNanoseconds
                    or PcapReader.MagicMicrosecondsSwapped or PcapReader.MagicNanosecondsSwapped
                    => new PcapReader(path, file, length, magic),
                PcapNgReader.SectionHeaderBlockType => new PcapNgReader(path, file, length),
                _ => throw new CaptureFileException(path, 0, $"not a pcap or pcapng file (magic 0x{magic:x8})"),
            };
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads the next packet; false at the end of the file.</summary>
    /// <exception cref="CaptureFileException">The next record is malformed; the message has its offset.</exception>
    /// <exception cref="IOException">The file shrank (was truncated) while it was read.</exception>
    public abstract bool TryReadNext(out CapturedPacket packet);

    /// <inheritdoc/>
    public void Dispose()
    {
        _file.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary><paramref name="count"/> bytes at <paramref name="offset"/>, which the caller has checked lie
    /// within <see cref="Length"/>; valid until the next call.</summary>
    private protected ReadOnlySpan<byte> Bytes(long offset, int count)
    {
        if (offset < _windowStart || offset + count > _windowStart + _windowLength)
        {
            Fill(offset, count);
        }

        return _window.AsSpan((int)(offset - _windowStart), count);
    }

    private void Fill(long offset, int count)
    {
        if (count > _window.Length)
        {
            _window = new byte[count];
        }

        int want = (int)Math.Min(_window.Length, Math.Max(count, Length - offset));
        int total = 0;
        _windowLength = 0;
        while (total < want)
        {
            int got = RandomAccess.Read(_file, _window.AsSpan(total, want - total), offset + total);
            if (got == 0)
            {
                break;
            }

            total += got;
        }

        if (total < count)
        {
            throw Shrank(Path, offset + total, Length);
        }

        _windowStart = offset;
        _windowLength = total;
    }

    private static IOException Shrank(string path, long at, long length) =>
        new($"{path}: offset {at}: the file was truncated while it was read (it had {length} bytes when opened)");

    private protected CaptureFileException Error(long offset, string reason) => new(Path, offset, reason);
}
