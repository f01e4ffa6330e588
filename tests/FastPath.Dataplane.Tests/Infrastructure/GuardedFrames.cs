using FastPath.Dataplane.Interop;

namespace FastPath.Dataplane.Tests.Infrastructure;

/// <summary>
/// Frames placed flush against a PROT_NONE page: any read or write one byte past the frame's end
/// faults (SIGSEGV) instead of silently reading a neighbour, so parser and rewrite tests prove
/// they stay inside the frame. Start-of-buffer over-reads are caught by a guard page in front.
/// </summary>
/// <remarks>Not thread-safe: one test owns one instance; the frame memory is reused by each <see cref="Place"/>.</remarks>
internal sealed unsafe class GuardedFrames : IDisposable
{
    private const int PageSize = 4096;
    private readonly byte* _base;
    private readonly nuint _length;
    private readonly int _dataPages;

    /// <param name="maxFrameLength">Largest frame to place; rounded up to whole pages.</param>
    public GuardedFrames(int maxFrameLength = 16384)
    {
        _dataPages = Math.Max(1, (maxFrameLength + PageSize - 1) / PageSize);
        _length = (nuint)((_dataPages + 2) * PageSize);
        void* map = Libc.Mmap(null, _length, LinuxConstants.ProtNone, LinuxConstants.MapPrivate | LinuxConstants.MapAnonymous, -1, 0);
        if (map == LinuxConstants.MapFailed)
        {
            Errno.Throw("mmap");
        }

        _base = (byte*)map;
        Errno.Check(Libc.Mprotect(_base + PageSize, (nuint)(_dataPages * PageSize), LinuxConstants.ProtRead | LinuxConstants.ProtWrite), "mprotect");
    }

    /// <summary>Largest frame that fits.</summary>
    public int Capacity => _dataPages * PageSize;

    /// <summary>Copies <paramref name="frame"/> so that its last byte is the last readable byte; returns its first byte.</summary>
    public byte* Place(ReadOnlySpan<byte> frame)
    {
        if (frame.Length > Capacity)
        {
            throw new ArgumentException($"frame of {frame.Length} bytes exceeds the guarded capacity {Capacity}", nameof(frame));
        }

        byte* start = _base + PageSize + Capacity - frame.Length;
        frame.CopyTo(new Span<byte>(start, frame.Length));
        return start;
    }

    /// <summary>The placed frame as a span (valid until the next <see cref="Place"/>).</summary>
    public Span<byte> Span(byte* start, int length) => new(start, length);

    public void Dispose() => Libc.Munmap(_base, _length);
}
