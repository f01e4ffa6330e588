using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Interop;

/// <summary>Turns a failed libc call into an <see cref="ErrnoException"/> that names the call.</summary>
/// <remarks>Thread-safe: reads the calling thread's last P/Invoke error only.</remarks>
internal static class Errno
{
    /// <summary>Throws for the calling thread's errno; call right after the failing P/Invoke.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void Throw(string call) => throw new ErrnoException(call, Marshal.GetLastPInvokeError());

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void Throw(string call, string detail) =>
        throw new ErrnoException(call, Marshal.GetLastPInvokeError(), detail);

    /// <summary>Returns <paramref name="result"/>, or throws naming <paramref name="call"/> when it is negative.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Check(int result, string call)
    {
        if (result < 0)
        {
            Throw(call);
        }

        return result;
    }

    /// <inheritdoc cref="Check(int, string)"/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static nint Check(nint result, string call)
    {
        if (result < 0)
        {
            Throw(call);
        }

        return result;
    }

    /// <summary>The symbolic name of an errno value (<c>EPERM</c>), or its number when unknown.</summary>
    internal static string Name(int errno) => errno switch
    {
        1 => "EPERM",
        2 => "ENOENT",
        4 => "EINTR",
        5 => "EIO",
        9 => "EBADF",
        11 => "EAGAIN",
        12 => "ENOMEM",
        13 => "EACCES",
        14 => "EFAULT",
        16 => "EBUSY",
        17 => "EEXIST",
        19 => "ENODEV",
        22 => "EINVAL",
        23 => "ENFILE",
        24 => "EMFILE",
        28 => "ENOSPC",
        32 => "EPIPE",
        38 => "ENOSYS",
        90 => "EMSGSIZE",
        92 => "ENOPROTOOPT",
        93 => "EPROTONOSUPPORT",
        95 => "EOPNOTSUPP",
        97 => "EAFNOSUPPORT",
        98 => "EADDRINUSE",
        99 => "EADDRNOTAVAIL",
        100 => "ENETDOWN",
        104 => "ECONNRESET",
        105 => "ENOBUFS",
        110 => "ETIMEDOUT",
        111 => "ECONNREFUSED",
        _ => "errno " + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
