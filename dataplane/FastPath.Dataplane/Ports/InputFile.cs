using System.Runtime.InteropServices;
using FastPath.Dataplane.Interop;
using Microsoft.Win32.SafeHandles;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// The one way FastPath opens a file it was told to read (capture, config, maps): the path must name a regular
/// file (not a FIFO, device, socket or directory: reading /dev/zero never ends and a FIFO blocks forever) of at
/// most a given size. The file is opened with O_NONBLOCK, so even a FIFO swapped in after a check cannot block
/// the open, and then examined with fstat(2) on the descriptor itself.
/// </summary>
/// <remarks>Stateless; thread-safe.</remarks>
public static unsafe class InputFile
{
    private const uint FileTypeMask = 0xF000;
    private const uint RegularFile = 0x8000;

    /// <summary>Opens <paramref name="path"/> for reading and returns its length.</summary>
    /// <exception cref="InvalidDataException">Not a regular file, or larger than <paramref name="maxBytes"/>;
    /// the message starts with the path.</exception>
    /// <exception cref="FileNotFoundException">Nothing is there.</exception>
    /// <exception cref="IOException">It cannot be opened.</exception>
    public static SafeFileHandle OpenRead(string path, long maxBytes, out long length)
    {
        int fd = Libc.Open(path, LinuxConstants.ORdOnly | LinuxConstants.ONonBlock | LinuxConstants.OCloexec, 0);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            string why = Marshal.GetPInvokeErrorMessage(errno);
            throw errno switch
            {
                2 => new FileNotFoundException($"{path}: no such file", path),
                13 => new UnauthorizedAccessException($"{path}: cannot read ({why})"),
                _ => new IOException($"{path}: cannot open ({why})"),
            };
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        try
        {
            byte* status = stackalloc byte[Libc.StatSize];
            if (Libc.Fstat(fd, status) < 0)
            {
                throw new IOException($"{path}: fstat failed ({Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())})");
            }

            uint type = *(uint*)(status + Libc.StatModeOffset) & FileTypeMask;
            if (type != RegularFile)
            {
                throw new InvalidDataException($"{path}: not a regular file ({Describe(type)}); only regular files are read");
            }

            length = *(long*)(status + Libc.StatSizeOffset);
            if (length > maxBytes)
            {
                throw new InvalidDataException($"{path}: {length} bytes, larger than the {maxBytes}-byte limit");
            }

            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Reads all of <paramref name="path"/> (a regular file of at most <paramref name="maxBytes"/>).</summary>
    /// <exception cref="InvalidDataException">Not a regular file, or too large.</exception>
    /// <exception cref="IOException">It cannot be read, or it changed size while it was read.</exception>
    public static byte[] ReadAllBytes(string path, long maxBytes)
    {
        using SafeFileHandle handle = OpenRead(path, maxBytes, out long length);
        byte[] bytes = GC.AllocateUninitializedArray<byte>((int)length);
        int total = 0;
        while (total < bytes.Length)
        {
            int got = RandomAccess.Read(handle, bytes.AsSpan(total), total);
            if (got == 0)
            {
                throw new IOException($"{path}: the file shrank while it was read ({total} of {length} bytes)");
            }

            total += got;
        }

        return bytes;
    }

    private static string Describe(uint type) => type switch
    {
        0x1000 => "a FIFO",
        0x2000 => "a character device",
        0x4000 => "a directory",
        0x6000 => "a block device",
        0xC000 => "a socket",
        _ => $"file type {type >> 12}",
    };
}
