using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FastPath.Vtpm.Interop;

/// <summary>The few libc calls the state store and the socket files need that .NET does not expose: opening a directory and
/// fsync-ing it, so a rename is durable (rename(2) is atomic, not durable, until the directory is synced), and
/// fdatasync (.NET's flush-to-disk is a full fsync, which also writes back timestamps the store never reads).</summary>
/// <remarks>Stateless P/Invoke; thread-safe.</remarks>
internal static partial class Posix
{
    private const string LibraryName = "libc";

    public const int ORdOnly = 0x0000;
    public const int ODirectory = 0x10000;
    public const int OCloexec = 0x80000;

    [LibraryImport(LibraryName, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport(LibraryName, EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport(LibraryName, EntryPoint = "fdatasync", SetLastError = true)]
    public static partial int Fdatasync(SafeFileHandle fd);

    [LibraryImport(LibraryName, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>fchmod(2): on a Unix socket before bind(2), the mode its socket file is created with.</summary>
    [LibraryImport(LibraryName, EntryPoint = "fchmod", SetLastError = true)]
    public static partial int Fchmod(nint fd, uint mode);

    /// <summary>Size of <c>struct stat</c> on x86-64 Linux.</summary>
    public const int StatSize = 144;

    /// <summary>Offset of <c>st_mode</c> in <c>struct stat</c> on x86-64 Linux.</summary>
    public const int StatModeOffset = 24;

    /// <summary>lstat(2) into a <see cref="StatSize"/>-byte buffer (the file itself, not a symlink's target).</summary>
    [LibraryImport(LibraryName, EntryPoint = "lstat", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static unsafe partial int Lstat(string path, byte* buffer);
}
