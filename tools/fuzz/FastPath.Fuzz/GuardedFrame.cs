using System.Runtime.InteropServices;

namespace FastPath.Fuzz;

/// <summary>
/// One frame buffer whose last byte sits right before a PROT_NONE page (and whose first page follows one), so a parser
/// read past either end of the input faults and afl++ records a crash instead of the read going unnoticed.
/// </summary>
/// <remarks>Not thread-safe: the fuzz loop owns it. Its own mmap import because the data plane's Interop is internal.</remarks>
internal sealed unsafe partial class GuardedFrame
{
    private const int PageSize = 4096;
    private const int ProtNone = 0;
    private const int ProtReadWrite = 3;
    private const int MapPrivateAnonymous = 0x02 | 0x20;

    private readonly byte* _data;

    public GuardedFrame(int capacityPages)
    {
        Capacity = capacityPages * PageSize;
        nuint length = (nuint)((capacityPages + 2) * PageSize);
        byte* map = (byte*)Mmap(null, length, ProtNone, MapPrivateAnonymous, -1, 0);
        if (map == (byte*)-1 || Mprotect(map + PageSize, (nuint)Capacity, ProtReadWrite) != 0)
        {
            throw new InvalidOperationException($"mmap/mprotect failed: errno {Marshal.GetLastPInvokeError()}");
        }

        _data = map + PageSize;
    }

    public int Capacity { get; }

    /// <summary>Copies <paramref name="frame"/> flush against the trailing guard page; returns its first byte.</summary>
    public byte* Place(ReadOnlySpan<byte> frame)
    {
        byte* start = _data + Capacity - frame.Length;
        frame.CopyTo(new Span<byte>(start, frame.Length));
        return start;
    }

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Mprotect(void* address, nuint length, int protection);
}
