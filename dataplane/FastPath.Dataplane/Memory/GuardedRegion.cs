using FastPath.Dataplane.Interop;
using Microsoft.Win32.SafeHandles;

namespace FastPath.Dataplane.Memory;

/// <summary>
/// Memory laid out as [guard page][segment 0][segment 1]…[guard page]: each segment is its own memfd
/// mapped MAP_SHARED|MAP_FIXED into one PROT_NONE reservation, so an overrun off either end faults instead
/// of corrupting a neighbour, and a second view (<see cref="MapView"/>, or <see cref="Attach"/> in another
/// process) sees the same physical pages at the same offsets with its own protection per segment.
/// </summary>
/// <remarks>
/// Concurrency: the memory itself is shared (its users synchronise through rings); creating views and
/// <see cref="Dispose"/> are owner-thread operations, and no view may be used after it is disposed.
/// One memfd per segment, not one per region, because a process holding a memfd can map all of it:
/// hiding headers from a guest with mprotect alone would stop an accident, not a hostile guest. The guest
/// is sent only the payload segment's memfd, so the header pages are not reachable from its process at all.
/// </remarks>
internal sealed unsafe class GuardedRegion : IDisposable
{
    private readonly MappingHandle _mapping;
    private readonly RegionSegment[] _segments;

    private GuardedRegion(MappingHandle mapping, RegionSegment[] segments, nuint length)
    {
        _mapping = mapping;
        _segments = segments;
        Length = length;
    }

    /// <summary>Bytes per page (4096 on x86-64 Linux); segment offsets and lengths are multiples of it.</summary>
    internal static nuint PageSize { get; } = (nuint)Environment.SystemPageSize;

    /// <summary>First data byte (just past the leading guard page).</summary>
    internal byte* Pointer => _mapping.Address + PageSize;

    /// <summary>Data bytes between the guard pages.</summary>
    internal nuint Length { get; }

    internal int SegmentCount => _segments.Length;

    /// <summary>Offset, length, memfd and access of segment <paramref name="index"/> in this view.</summary>
    internal RegionSegment Segment(int index) => _segments[index];

    /// <summary>Creates a region with one read-write memfd segment per length (each rounded up to whole pages).</summary>
    internal static GuardedRegion Create(string name, params ReadOnlySpan<nuint> segmentLengths)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (segmentLengths.IsEmpty)
        {
            throw new ArgumentException("a guarded region needs at least one segment", nameof(segmentLengths));
        }

        var segments = new RegionSegment[segmentLengths.Length];
        nuint offset = 0;
        try
        {
            for (int i = 0; i < segments.Length; i++)
            {
                nuint length = RoundUpToPage(segmentLengths[i]);
                if (length == 0)
                {
                    throw new ArgumentException($"segment {i} is empty", nameof(segmentLengths));
                }

                SafeFileHandle file = CreateMemfd($"{name}.{i}", length);
                segments[i] = new RegionSegment(file, offset, length, RegionAccess.ReadWrite);
                offset += length;
            }

            // Attach dups each memfd for the region it builds, so the creator's copies are closed below either way.
            return Attach(offset, segments);
        }
        finally
        {
            foreach (RegionSegment segment in segments)
            {
                segment.File?.Dispose();
            }
        }
    }

    /// <summary>
    /// Maps the memfds of <paramref name="segments"/> at their offsets inside a fresh guarded reservation of
    /// <paramref name="length"/> data bytes; segments with <see cref="RegionAccess.None"/> (or no memfd) stay
    /// unmapped. Used for a second view in this process and, by a guest, for memfds received over SCM_RIGHTS.
    /// The caller keeps ownership of the handles it passes (they are duplicated).
    /// </summary>
    internal static GuardedRegion Attach(nuint length, ReadOnlySpan<RegionSegment> segments)
    {
        ValidateLayout(length, segments);
        nuint total = length + (2 * PageSize);
        void* reservation = Libc.Mmap(null, total, LinuxConstants.ProtNone,
            LinuxConstants.MapPrivate | LinuxConstants.MapAnonymous | LinuxConstants.MapNoReserve, -1, 0);
        if (reservation == LinuxConstants.MapFailed)
        {
            Errno.Throw("mmap", $"reserve {total} bytes");
        }

        var mapping = new MappingHandle(reservation, total);
        var owned = new RegionSegment[segments.Length];
        bool done = false;
        try
        {
            byte* data = mapping.Address + PageSize;
            for (int i = 0; i < segments.Length; i++)
            {
                RegionSegment segment = segments[i];
                if (segment.Access == RegionAccess.None || segment.File is null)
                {
                    owned[i] = segment with { File = null, Access = RegionAccess.None };
                    continue;
                }

                // Mapping past the end of a memfd succeeds but raises SIGBUS on first touch; refuse it here instead.
                long fileLength = Libc.Lseek((int)segment.File.DangerousGetHandle(), 0, LinuxConstants.SeekEnd);
                if (fileLength < 0)
                {
                    Errno.Throw("lseek", $"segment {i}");
                }

                if ((ulong)fileLength < segment.Length)
                {
                    throw new ArgumentException($"segment {i} needs {segment.Length} bytes but its memfd holds {fileLength}", nameof(segments));
                }

                void* placed = Libc.Mmap(data + segment.Offset, segment.Length, (int)segment.Access,
                    LinuxConstants.MapShared | LinuxConstants.MapFixed, (int)segment.File.DangerousGetHandle(), 0);
                if (placed == LinuxConstants.MapFailed)
                {
                    Errno.Throw("mmap", $"segment {i} at offset {segment.Offset}, {segment.Length} bytes");
                }

                owned[i] = segment with { File = Duplicate(segment.File) };
            }

            done = true;
            return new GuardedRegion(mapping, owned, length);
        }
        finally
        {
            if (!done)
            {
                foreach (RegionSegment segment in owned)
                {
                    segment.File?.Dispose();
                }

                mapping.Dispose();
            }
        }
    }

    /// <summary>
    /// Maps a second view of the same pages with one access per segment (the guest view: payload
    /// <see cref="RegionAccess.ReadWrite"/>, headers <see cref="RegionAccess.None"/>); offsets are identical.
    /// </summary>
    internal GuardedRegion MapView(params ReadOnlySpan<RegionAccess> access)
    {
        if (access.Length != _segments.Length)
        {
            throw new ArgumentException($"a view needs one access per segment: {_segments.Length}, got {access.Length}", nameof(access));
        }

        var segments = new RegionSegment[_segments.Length];
        for (int i = 0; i < segments.Length; i++)
        {
            if (access[i] != RegionAccess.None && _segments[i].File is null)
            {
                throw new InvalidOperationException($"segment {i} is not mapped in this view, so another view cannot map it either");
            }

            segments[i] = _segments[i] with { Access = access[i] };
        }

        return Attach(Length, segments);
    }

    public void Dispose()
    {
        _mapping.Dispose();
        foreach (RegionSegment segment in _segments)
        {
            segment.File?.Dispose();
        }
    }

    internal static nuint RoundUpToPage(nuint length) => (length + PageSize - 1) & ~(PageSize - 1);

    private static void ValidateLayout(nuint length, ReadOnlySpan<RegionSegment> segments)
    {
        if (length == 0 || length % PageSize != 0)
        {
            throw new ArgumentException($"region length {length} is not a positive multiple of the page size {PageSize}", nameof(length));
        }

        nuint end = 0;
        for (int i = 0; i < segments.Length; i++)
        {
            RegionSegment segment = segments[i];
            if (segment.Offset % PageSize != 0 || segment.Length == 0 || segment.Length % PageSize != 0)
            {
                throw new ArgumentException($"segment {i} (offset {segment.Offset}, length {segment.Length}) is not page-aligned", nameof(segments));
            }

            if (segment.Offset < end || segment.Length > length || segment.Offset > length - segment.Length)
            {
                throw new ArgumentException($"segment {i} (offset {segment.Offset}, length {segment.Length}) overlaps its predecessor or leaves the {length}-byte region", nameof(segments));
            }

            end = segment.Offset + segment.Length;
        }
    }

    private static SafeFileHandle CreateMemfd(string name, nuint length)
    {
        int fd = Errno.Check(Libc.MemfdCreate(name, LinuxConstants.MfdCloexec), "memfd_create");
        var file = new SafeFileHandle(fd, ownsHandle: true);
        if (Libc.Ftruncate(fd, (long)length) < 0)
        {
            file.Dispose();
            Errno.Throw("ftruncate", $"{name}: {length} bytes");
        }

        return file;
    }

    private static SafeFileHandle Duplicate(SafeFileHandle file)
    {
        int fd = Errno.Check(Libc.Fcntl((int)file.DangerousGetHandle(), LinuxConstants.FDupFdCloexec, 0), "fcntl(F_DUPFD_CLOEXEC)");
        return new SafeFileHandle(fd, ownsHandle: true);
    }
}
