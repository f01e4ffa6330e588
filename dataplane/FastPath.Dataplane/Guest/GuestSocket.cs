using System.Text;
using FastPath.Dataplane.Interop;
using Microsoft.Win32.SafeHandles;

namespace FastPath.Dataplane.Guest;

/// <summary>
/// The guest channel's Unix socket (SOCK_SEQPACKET: one message per handshake, and a peer's exit shows as
/// POLLHUP): listen/accept on the data plane side, connect on the guest side, and the one handshake message
/// that carries <see cref="GuestLayout.Magic"/> with the payload and channel memfds attached (SCM_RIGHTS).
/// </summary>
/// <remarks>Stateless; each call works on the descriptors it is given. Cold path: once per guest connection.</remarks>
internal static unsafe class GuestSocket
{
    // sockaddr_un: sa_family (2 bytes) + sun_path[108].
    private const int PathCapacity = 108;
    private const int AddressLength = 2 + PathCapacity;

    // cmsghdr on x86-64: cmsg_len (8), cmsg_level (4), cmsg_type (4), then two ints; CMSG_SPACE(8) = 24.
    private const int ControlHeaderLength = 16;
    private const int ControlLength = ControlHeaderLength + (2 * sizeof(int));

    /// <summary>Binds and listens at <paramref name="path"/> (a stale socket file there is replaced).</summary>
    internal static SafeFileHandle Listen(string path)
    {
        byte* address = stackalloc byte[AddressLength];
        int length = WriteAddress(address, path);
        RemoveStaleSocket(path);

        SafeFileHandle socket = Open();
        int fd = (int)socket.DangerousGetHandle();
        if (Libc.Bind(fd, address, (uint)length) < 0 || Libc.Listen(fd, 4) < 0)
        {
            socket.Dispose();
            Errno.Throw("bind/listen", path);
        }

        return socket;
    }

    /// <summary>Whether <paramref name="path"/> names a Unix socket file (not following a symlink).</summary>
    internal static bool IsSocket(string path)
    {
        const int FileTypeMask = 0xF000;
        const int SocketType = 0xC000;
        byte* status = stackalloc byte[Libc.StatSize];
        return Libc.Lstat(path, status) == 0 && (*(uint*)(status + Libc.StatModeOffset) & FileTypeMask) == SocketType;
    }

    /// <summary>
    /// Null when a port may listen at <paramref name="path"/>, otherwise why not: too long for a Unix socket address,
    /// or (with <paramref name="onHost"/>) something other than a socket left by an earlier run is there.
    /// </summary>
    internal static string? ListenPathProblem(string path, bool onHost)
    {
        if (Encoding.UTF8.GetByteCount(path) >= PathCapacity)
        {
            return $"'{path}' is longer than a Unix socket path may be ({PathCapacity - 1} bytes)";
        }

        return onHost && Path.Exists(path) && !IsSocket(path) ? $"'{path}' exists and is not a socket (it would not be replaced)" : null;
    }

    /// <summary>Removes a socket file left at <paramref name="path"/> by an earlier run; anything else there is an error, never deleted.</summary>
    private static void RemoveStaleSocket(string path)
    {
        if (ListenPathProblem(path, onHost: true) is string problem)
        {
            throw new IOException(problem);
        }

        if (IsSocket(path))
        {
            File.Delete(path);
        }
    }

    /// <summary>Accepts one pending connection, or returns null when none is pending (the listener is polled first).</summary>
    internal static SafeFileHandle? Accept(SafeFileHandle listener)
    {
        int fd = Libc.Accept4((int)listener.DangerousGetHandle(), null, null, LinuxConstants.SockCloexec);
        return fd < 0 ? null : new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>Connects to a guest port's socket at <paramref name="path"/>.</summary>
    internal static SafeFileHandle Connect(string path)
    {
        byte* address = stackalloc byte[AddressLength];
        int length = WriteAddress(address, path);
        SafeFileHandle socket = Open();
        if (Libc.Connect((int)socket.DangerousGetHandle(), address, (uint)length) < 0)
        {
            socket.Dispose();
            Errno.Throw("connect", path);
        }

        return socket;
    }

    /// <summary>Sends the handshake: the magic, with the payload memfd and the channel memfd attached.</summary>
    internal static void SendHandshake(SafeFileHandle socket, SafeFileHandle payload, SafeFileHandle channel)
    {
        ulong magic = GuestLayout.Magic;
        byte* control = stackalloc byte[ControlLength];
        *(ulong*)control = ControlLength;
        *(int*)(control + 8) = LinuxConstants.SolSocket;
        *(int*)(control + 12) = LinuxConstants.ScmRights;
        *(int*)(control + 16) = (int)payload.DangerousGetHandle();
        *(int*)(control + 20) = (int)channel.DangerousGetHandle();
        Libc.IoVec vector = new() { Base = &magic, Length = sizeof(ulong) };
        Libc.MsgHdr message = new() { Iov = &vector, IovLength = 1, Control = control, ControlLength = ControlLength };
        if (Libc.Sendmsg((int)socket.DangerousGetHandle(), &message, LinuxConstants.MsgNoSignal) != sizeof(ulong))
        {
            Errno.Throw("sendmsg", "guest handshake");
        }
    }

    /// <summary>Receives the handshake and returns the payload and channel memfds (close-on-exec).</summary>
    internal static (SafeFileHandle Payload, SafeFileHandle Channel) ReceiveHandshake(SafeFileHandle socket)
    {
        ulong magic = 0;
        byte* control = stackalloc byte[ControlLength];
        new Span<byte>(control, ControlLength).Clear();
        Libc.IoVec vector = new() { Base = &magic, Length = sizeof(ulong) };
        Libc.MsgHdr message = new() { Iov = &vector, IovLength = 1, Control = control, ControlLength = ControlLength };
        nint received = Libc.Recvmsg((int)socket.DangerousGetHandle(), &message, LinuxConstants.MsgCmsgCloexec);
        if (received < 0)
        {
            Errno.Throw("recvmsg", "guest handshake");
        }

        bool rights = message.ControlLength >= ControlLength && *(ulong*)control == ControlLength
            && *(int*)(control + 8) == LinuxConstants.SolSocket && *(int*)(control + 12) == LinuxConstants.ScmRights;
        if (rights)
        {
            var payload = new SafeFileHandle(*(int*)(control + 16), ownsHandle: true);
            var channel = new SafeFileHandle(*(int*)(control + 20), ownsHandle: true);
            if (received == sizeof(ulong) && magic == GuestLayout.Magic)
            {
                return (payload, channel);
            }

            payload.Dispose();
            channel.Dispose();
        }

        throw new InvalidDataException(received == 0
            ? "the data plane closed the guest socket without a handshake (is another guest already attached to this port?)"
            : "the guest socket's handshake is not a FastPath guest channel (wrong magic or no memfds)");
    }

    private static SafeFileHandle Open()
    {
        int fd = Errno.Check(Libc.Socket(LinuxConstants.AfUnix, LinuxConstants.SockSeqPacket | LinuxConstants.SockCloexec, 0), "socket(AF_UNIX)");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    private static int WriteAddress(byte* address, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        int bytes = Encoding.UTF8.GetByteCount(path);
        if (bytes >= PathCapacity)
        {
            throw new ArgumentException($"a Unix socket path holds at most {PathCapacity - 1} bytes: {path}", nameof(path));
        }

        new Span<byte>(address, AddressLength).Clear();
        *(ushort*)address = LinuxConstants.AfUnix;
        Encoding.UTF8.GetBytes(path, new Span<byte>(address + 2, PathCapacity));
        return 2 + bytes + 1;
    }
}
