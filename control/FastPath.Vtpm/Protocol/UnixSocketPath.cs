using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using FastPath.Vtpm.Interop;

namespace FastPath.Vtpm.Protocol;

/// <summary>
/// Where a local server (the vTPM's channels, the pair's status, the daemon's control socket) may listen on a
/// Unix socket, and the listening itself: the socket file is created 0600 (only its owner may connect: the mode
/// is set on the socket before bind(2), so there is no moment it is wider), a socket file left by a dead server
/// is replaced, and nothing else is ever deleted: a regular file, a directory or a live server's socket at the
/// path is refused, and so is a path whose directory does not exist (it is not created either).
/// </summary>
/// <remarks>Stateless; thread-safe.</remarks>
public static unsafe class UnixSocketPath
{
    /// <summary>Bytes of a Unix socket path (sun_path holds 108 with its terminating NUL).</summary>
    public const int MaxPathBytes = 107;

    /// <summary>Owner read and write: what a listening socket file is created with.</summary>
    public const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Null when a server may listen at <paramref name="path"/>, otherwise why not.</summary>
    public static string? ListenProblem(string path)
    {
        if (path.Length == 0 || Encoding.UTF8.GetByteCount(path) > MaxPathBytes)
        {
            return $"'{path}' is not a Unix socket path (1-{MaxPathBytes} bytes)";
        }

        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is null || !Directory.Exists(directory))
        {
            return $"the directory of '{path}' does not exist (it is not created)";
        }

        return Kind(path) is FileKind.Other ? $"'{path}' exists and is not a socket (it would not be replaced)" : null;
    }

    /// <summary>Binds and listens at <paramref name="path"/> with mode 0600, replacing a dead server's socket file.</summary>
    /// <exception cref="IOException">The path is refused (<see cref="ListenProblem"/>) or a live server listens there.</exception>
    public static Socket Listen(string path, int backlog)
    {
        if (ListenProblem(path) is string problem)
        {
            throw new IOException(problem);
        }

        if (Kind(path) is FileKind.Socket)
        {
            using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new IOException($"another process is already listening on '{path}'");
            }
            catch (SocketException)
            {
                // Nobody answers: the socket file of a server that is gone.
                File.Delete(path);
            }
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            if (Posix.Fchmod(socket.Handle, (uint)Mode) != 0)
            {
                throw new IOException($"fchmod on the socket for '{path}' failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            }

            socket.Bind(new UnixDomainSocketEndPoint(path));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, Mode);
            }
            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A listening socket for <paramref name="endPoint"/>: a Unix socket through <see cref="Listen"/>, or TCP.</summary>
    public static Socket Listen(EndPoint endPoint, int backlog)
    {
        if (endPoint is UnixDomainSocketEndPoint unix)
        {
            return Listen(unix.ToString(), backlog);
        }

        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endPoint);
            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Removes the socket file at <paramref name="path"/> if it is one (a server's own, at shutdown).</summary>
    public static void RemoveSocketFile(string path)
    {
        if (Kind(path) is FileKind.Socket)
        {
            File.Delete(path);
        }
    }

    private enum FileKind
    {
        None,
        Socket,
        Other,
    }

    private static FileKind Kind(string path)
    {
        const uint FileTypeMask = 0xF000;
        const uint SocketType = 0xC000;
        byte* status = stackalloc byte[Posix.StatSize];
        if (Posix.Lstat(path, status) != 0)
        {
            return FileKind.None;
        }

        return (*(uint*)(status + Posix.StatModeOffset) & FileTypeMask) == SocketType ? FileKind.Socket : FileKind.Other;
    }
}
