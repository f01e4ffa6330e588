using System.Runtime.InteropServices;
using FastPath.Dataplane.Interop;

namespace FastPath.Dataplane.Tests.Interop;

public sealed unsafe class ErrnoTests
{
    [Fact]
    public void A_failed_call_throws_an_exception_that_names_the_call_and_the_errno()
    {
        // mprotect on an unaligned address fails with EINVAL.
        int result = Libc.Mprotect((void*)1, 4096, LinuxConstants.ProtRead);
        Assert.Equal(-1, result);
        var error = Assert.Throws<ErrnoException>(() => Errno.Check(result, "mprotect"));
        Assert.Equal("mprotect", error.Call);
        Assert.Equal(22, error.Errno);
        Assert.StartsWith("mprotect: EINVAL (22): ", error.Message);
    }

    [Fact]
    public void A_descriptor_that_is_not_open_gives_EBADF()
    {
        // Not a just-closed descriptor: tests run in parallel and another thread may reuse its number at once.
        // A number above any RLIMIT_NOFILE the kernel allows (fs.nr_open is at most 2^30) can never be open.
        const int fd = int.MaxValue;
        var error = Assert.Throws<ErrnoException>(() => Errno.Check(Libc.Ftruncate(fd, 4096), "ftruncate"));
        Assert.Equal("EBADF", Errno.Name(error.Errno));
    }

    [Fact]
    public void A_memfd_can_be_sized_mapped_written_and_unmapped()
    {
        int fd = Errno.Check(Libc.MemfdCreate("fastpath-map-test", LinuxConstants.MfdCloexec), "memfd_create");
        try
        {
            long page = Libc.Sysconf(LinuxConstants.ScPageSize);
            Assert.Equal(4096, page);
            Errno.Check(Libc.Ftruncate(fd, page), "ftruncate");
            void* map = Libc.Mmap(null, (nuint)page, LinuxConstants.ProtRead | LinuxConstants.ProtWrite, LinuxConstants.MapShared, fd, 0);
            Assert.True(map != LinuxConstants.MapFailed, Marshal.GetLastPInvokeError().ToString(System.Globalization.CultureInfo.InvariantCulture));
            *(int*)map = 0x5a5a;
            Assert.Equal(0x5a5a, *(int*)map);
            Assert.Equal(0, Libc.Munmap(map, (nuint)page));
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    [Fact]
    public void The_calling_thread_can_read_its_cpu_affinity()
    {
        ulong mask = 0;
        Errno.Check(Libc.SchedGetaffinity(0, sizeof(ulong), &mask), "sched_getaffinity");
        Assert.NotEqual(0UL, mask);
        Assert.InRange(Libc.SchedGetcpu(), 0, 63);
    }
}
