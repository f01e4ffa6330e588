using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Interop;

/// <summary>
/// Every libc call the data plane makes, declared once. Raw calls return what libc returns
/// (-1 and errno on failure, read through <see cref="Marshal.GetLastPInvokeError"/>); callers that
/// cannot handle a failure go through the <c>Checked</c> wrappers in <see cref="Errno"/>.
/// </summary>
/// <remarks>
/// Thread-safe: these are plain syscalls; errno is per thread and captured by the marshaller
/// (<c>SetLastError = true</c>) before any other code can overwrite it.
/// </remarks>
internal static unsafe partial class Libc
{
    private const string LibraryName = "libc";

    // Memory: mmap/munmap/mprotect/madvise and anonymous files to map twice.
    [LibraryImport(LibraryName, EntryPoint = "mmap", SetLastError = true)]
    internal static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport(LibraryName, EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(void* address, nuint length);

    [LibraryImport(LibraryName, EntryPoint = "mprotect", SetLastError = true)]
    internal static partial int Mprotect(void* address, nuint length, int protection);

    [LibraryImport(LibraryName, EntryPoint = "madvise", SetLastError = true)]
    internal static partial int Madvise(void* address, nuint length, int advice);

    [LibraryImport(LibraryName, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MemfdCreate(string name, uint flags);

    [LibraryImport(LibraryName, EntryPoint = "ftruncate", SetLastError = true)]
    internal static partial int Ftruncate(int fd, long length);

    [LibraryImport(LibraryName, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);

    [LibraryImport(LibraryName, EntryPoint = "dup", SetLastError = true)]
    internal static partial int Dup(int fd);

    // Packet memory: duplicate a memfd keeping FD_CLOEXEC (dup drops it), read its size before mapping it.
    [LibraryImport(LibraryName, EntryPoint = "fcntl", SetLastError = true)]
    internal static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport(LibraryName, EntryPoint = "lseek", SetLastError = true)]
    internal static partial long Lseek(int fd, long offset, int whence);

    [LibraryImport(LibraryName, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags, int mode);

    [LibraryImport(LibraryName, EntryPoint = "read", SetLastError = true)]
    internal static partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport(LibraryName, EntryPoint = "write", SetLastError = true)]
    internal static partial nint Write(int fd, void* buffer, nuint count);

    // Scheduling: pin a worker thread to its isolated core (pid 0 = the calling thread).
    [LibraryImport(LibraryName, EntryPoint = "sched_setaffinity", SetLastError = true)]
    internal static partial int SchedSetaffinity(int pid, nuint cpuSetSize, ulong* mask);

    [LibraryImport(LibraryName, EntryPoint = "sched_getaffinity", SetLastError = true)]
    internal static partial int SchedGetaffinity(int pid, nuint cpuSetSize, ulong* mask);

    [LibraryImport(LibraryName, EntryPoint = "sched_getcpu", SetLastError = true)]
    internal static partial int SchedGetcpu();

    [LibraryImport(LibraryName, EntryPoint = "gettid")]
    internal static partial int Gettid();

    // Sockets: AF_PACKET ports, the guest channel's unix socket (SCM_RIGHTS needs sendmsg/recvmsg).
    [LibraryImport(LibraryName, EntryPoint = "socket", SetLastError = true)]
    internal static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(LibraryName, EntryPoint = "socketpair", SetLastError = true)]
    internal static partial int Socketpair(int domain, int type, int protocol, int* fds);

    [LibraryImport(LibraryName, EntryPoint = "setsockopt", SetLastError = true)]
    internal static partial int Setsockopt(int fd, int level, int name, void* value, uint length);

    [LibraryImport(LibraryName, EntryPoint = "getsockopt", SetLastError = true)]
    internal static partial int Getsockopt(int fd, int level, int name, void* value, uint* length);

    [LibraryImport(LibraryName, EntryPoint = "bind", SetLastError = true)]
    internal static partial int Bind(int fd, void* address, uint length);

    [LibraryImport(LibraryName, EntryPoint = "connect", SetLastError = true)]
    internal static partial int Connect(int fd, void* address, uint length);

    [LibraryImport(LibraryName, EntryPoint = "listen", SetLastError = true)]
    internal static partial int Listen(int fd, int backlog);

    [LibraryImport(LibraryName, EntryPoint = "accept4", SetLastError = true)]
    internal static partial int Accept4(int fd, void* address, uint* length, int flags);

    [LibraryImport(LibraryName, EntryPoint = "poll", SetLastError = true)]
    internal static partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [LibraryImport(LibraryName, EntryPoint = "sendto", SetLastError = true)]
    internal static partial nint Sendto(int fd, void* buffer, nuint length, int flags, void* address, uint addressLength);

    [LibraryImport(LibraryName, EntryPoint = "recvfrom", SetLastError = true)]
    internal static partial nint Recvfrom(int fd, void* buffer, nuint length, int flags, void* address, uint* addressLength);

    [LibraryImport(LibraryName, EntryPoint = "sendmsg", SetLastError = true)]
    internal static partial nint Sendmsg(int fd, MsgHdr* message, int flags);

    [LibraryImport(LibraryName, EntryPoint = "recvmsg", SetLastError = true)]
    internal static partial nint Recvmsg(int fd, MsgHdr* message, int flags);

    [LibraryImport(LibraryName, EntryPoint = "sendmmsg", SetLastError = true)]
    internal static partial int Sendmmsg(int fd, MMsgHdr* messages, uint count, int flags);

    [LibraryImport(LibraryName, EntryPoint = "recvmmsg", SetLastError = true)]
    internal static partial int Recvmmsg(int fd, MMsgHdr* messages, uint count, int flags, void* timeout);

    [LibraryImport(LibraryName, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int Ioctl(int fd, nuint request, void* argument);

    [LibraryImport(LibraryName, EntryPoint = "if_nametoindex", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial uint IfNametoindex(string name);

    // Durability.
    [LibraryImport(LibraryName, EntryPoint = "fsync", SetLastError = true)]
    internal static partial int Fsync(int fd);

    [LibraryImport(LibraryName, EntryPoint = "clock_gettime", SetLastError = true)]
    internal static partial int ClockGettime(int clock, Timespec* time);

    [LibraryImport(LibraryName, EntryPoint = "fdatasync", SetLastError = true)]
    internal static partial int Fdatasync(int fd);

    [LibraryImport(LibraryName, EntryPoint = "sysconf", SetLastError = true)]
    internal static partial long Sysconf(int name);

    // Ports: TAP reads a frame into the caller's buffer plus an overflow buffer to learn its true length.
    [LibraryImport(LibraryName, EntryPoint = "readv", SetLastError = true)]
    internal static partial nint Readv(int fd, IoVec* vectors, int count);

    // Guest channel: the hostile-guest probe touches a header page from native code, so the kernel's SIGSEGV
    // ends the process (a fault in managed code becomes a runtime abort instead).
    [LibraryImport(LibraryName, EntryPoint = "memmove")]
    internal static partial void* Memmove(void* destination, void* source, nuint count);

    /// <summary><c>struct pollfd</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    /// <summary><c>struct iovec</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary><c>struct msghdr</c> (x86-64 layout: pointers and size_t are 8 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary><c>struct mmsghdr</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }

    /// <summary><c>struct timespec</c>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>Size of <c>struct stat</c> on x86-64 Linux.</summary>
    internal const int StatSize = 144;

    /// <summary>Offset of <c>st_mode</c> in <c>struct stat</c> on x86-64 Linux.</summary>
    internal const int StatModeOffset = 24;

    /// <summary>lstat(2) into a <see cref="StatSize"/>-byte buffer (the file itself, not a symlink's target).</summary>
    [LibraryImport(LibraryName, EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int Lstat(string path, byte* buffer);

    /// <summary>Offset of <c>st_size</c> in <c>struct stat</c> on x86-64 Linux.</summary>
    internal const int StatSizeOffset = 48;

    /// <summary>fstat(2) into a <see cref="StatSize"/>-byte buffer: what an open descriptor really is.</summary>
    [LibraryImport(LibraryName, EntryPoint = "fstat", SetLastError = true)]
    internal static partial int Fstat(int fd, byte* buffer);
}
