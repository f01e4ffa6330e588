using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Rings;
using Microsoft.Win32.SafeHandles;

namespace FastPath.Dataplane.Guest;

/// <summary>
/// The channel memfd of <see cref="GuestLayout"/> mapped into this process: the control block and the four rings.
/// The data plane creates and formats it (<see cref="Create"/>); a guest attaches to a received memfd (<see cref="Attach"/>).
/// </summary>
/// <remarks>
/// Concurrency: each ring has one producer and one consumer (the data plane's worker and the guest's thread, per
/// <see cref="GuestLayout"/>); creating and disposing belong to the owner. The peer shares the memory and may
/// scribble on it: rings clamp counts to their capacity, and every descriptor is validated by its reader.
/// </remarks>
internal sealed unsafe class GuestChannel : IDisposable
{
    private readonly MappingHandle _mapping;

    private GuestChannel(SafeFileHandle file, MappingHandle mapping, uint capacity, nuint rx, nuint tx, nuint fill, nuint free, bool format)
    {
        File = file;
        _mapping = mapping;
        byte* b = mapping.Address;
        Rx = format ? SpscRing<GuestRxDescriptor>.Format(b + rx, capacity) : SpscRing<GuestRxDescriptor>.Attach(b + rx, capacity);
        Tx = format ? SpscRing<GuestTxDescriptor>.Format(b + tx, capacity) : SpscRing<GuestTxDescriptor>.Attach(b + tx, capacity);
        Fill = format ? SpscRing<uint>.Format(b + fill, capacity) : SpscRing<uint>.Attach(b + fill, capacity);
        Free = format ? SpscRing<uint>.Format(b + free, capacity) : SpscRing<uint>.Attach(b + free, capacity);
    }

    internal SafeFileHandle File { get; }

    internal byte* ControlBlock => _mapping.Address;

    internal SpscRing<GuestRxDescriptor> Rx { get; }

    internal SpscRing<GuestTxDescriptor> Tx { get; }

    internal SpscRing<uint> Fill { get; }

    internal SpscRing<uint> Free { get; }

    /// <summary>Creates, sizes, maps and formats a channel for a pool, its control block filled in.</summary>
    internal static GuestChannel Create(FramePool pool)
    {
        uint capacity = GuestLayout.RingCapacity;
        nuint rx = GuardedRegion.PageSize;
        nuint tx = rx + GuardedRegion.RoundUpToPage(RingMemory.RequiredBytes<GuestRxDescriptor>(capacity));
        nuint fill = tx + GuardedRegion.RoundUpToPage(RingMemory.RequiredBytes<GuestTxDescriptor>(capacity));
        nuint free = fill + GuardedRegion.RoundUpToPage(RingMemory.RequiredBytes<uint>(capacity));
        nuint length = free + GuardedRegion.RoundUpToPage(RingMemory.RequiredBytes<uint>(capacity));

        int fd = Errno.Check(Libc.MemfdCreate("fastpath-guest-channel", LinuxConstants.MfdCloexec), "memfd_create");
        var file = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            if (Libc.Ftruncate(fd, (long)length) < 0)
            {
                Errno.Throw("ftruncate", $"guest channel: {length} bytes");
            }

            MappingHandle mapping = Map(fd, length);
            byte* control = mapping.Address;
            RegionSegment payload = pool.Region.Segment(1);
            *(ulong*)(control + GuestLayout.MagicOffset) = GuestLayout.Magic;
            *(uint*)(control + GuestLayout.VersionOffset) = GuestLayout.Version;
            *(uint*)(control + GuestLayout.FrameCountOffset) = pool.FrameCount;
            *(uint*)(control + GuestLayout.PayloadSlotSizeOffset) = (uint)pool.PayloadSlotSize;
            *(uint*)(control + GuestLayout.RingCapacityOffset) = capacity;
            *(ulong*)(control + GuestLayout.RegionLengthOffset) = pool.Region.Length;
            *(ulong*)(control + GuestLayout.PayloadSegmentOffsetOffset) = payload.Offset;
            *(ulong*)(control + GuestLayout.PayloadSegmentLengthOffset) = payload.Length;
            *(ulong*)(control + GuestLayout.RxRingOffset) = rx;
            *(ulong*)(control + GuestLayout.TxRingOffset) = tx;
            *(ulong*)(control + GuestLayout.FillRingOffset) = fill;
            *(ulong*)(control + GuestLayout.FreeRingOffset) = free;
            *(ulong*)(control + GuestLayout.ChannelLengthOffset) = length;
            return new GuestChannel(file, mapping, capacity, rx, tx, fill, free, format: true);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Maps a channel memfd received from the data plane; the control block is checked before any ring is touched.</summary>
    internal static GuestChannel Attach(SafeFileHandle file)
    {
        int fd = (int)file.DangerousGetHandle();
        long size = Libc.Lseek(fd, 0, LinuxConstants.SeekEnd);
        if (size < (long)GuardedRegion.PageSize)
        {
            throw new InvalidDataException($"the guest channel memfd holds {size} bytes, less than its control page");
        }

        MappingHandle mapping = Map(fd, (nuint)size);
        try
        {
            byte* control = mapping.Address;
            if (*(ulong*)control != GuestLayout.Magic || *(uint*)(control + GuestLayout.VersionOffset) != GuestLayout.Version)
            {
                throw new InvalidDataException("the guest channel's control block has the wrong magic or version");
            }

            uint capacity = *(uint*)(control + GuestLayout.RingCapacityOffset);
            nuint rx = (nuint)(*(ulong*)(control + GuestLayout.RxRingOffset));
            nuint tx = (nuint)(*(ulong*)(control + GuestLayout.TxRingOffset));
            nuint fill = (nuint)(*(ulong*)(control + GuestLayout.FillRingOffset));
            nuint free = (nuint)(*(ulong*)(control + GuestLayout.FreeRingOffset));
            RingMemory.ValidateCapacity(capacity);
            CheckRing(rx, RingMemory.RequiredBytes<GuestRxDescriptor>(capacity), (nuint)size);
            CheckRing(tx, RingMemory.RequiredBytes<GuestTxDescriptor>(capacity), (nuint)size);
            CheckRing(fill, RingMemory.RequiredBytes<uint>(capacity), (nuint)size);
            CheckRing(free, RingMemory.RequiredBytes<uint>(capacity), (nuint)size);
            return new GuestChannel(file, mapping, capacity, rx, tx, fill, free, format: false);
        }
        catch
        {
            mapping.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _mapping.Dispose();
        File.Dispose();
    }

    private static MappingHandle Map(int fd, nuint length)
    {
        void* address = Libc.Mmap(null, length, LinuxConstants.ProtRead | LinuxConstants.ProtWrite, LinuxConstants.MapShared, fd, 0);
        if (address == LinuxConstants.MapFailed)
        {
            Errno.Throw("mmap", $"guest channel, {length} bytes");
        }

        return new MappingHandle(address, length);
    }

    private static void CheckRing(nuint offset, nuint bytes, nuint size)
    {
        if (offset % GuardedRegion.PageSize != 0 || offset < GuardedRegion.PageSize || offset > size || bytes > size - offset)
        {
            throw new InvalidDataException($"a guest ring at offset {offset} ({bytes} bytes) does not fit the {size}-byte channel");
        }
    }
}
