using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Interop;

/// <summary>A libc call failed; the message names the call and the errno (<c>mmap: ENOMEM (12): Cannot allocate memory</c>).</summary>
public sealed class ErrnoException : IOException
{
    /// <summary>Creates the exception for <paramref name="call"/> failing with <paramref name="errno"/>.</summary>
    public ErrnoException(string call, int errno, string? detail = null)
        : base(Format(call, errno, detail))
    {
        Call = call;
        Errno = errno;
        HResult = errno;
    }

    /// <summary>The libc function that failed.</summary>
    public string Call { get; }

    /// <summary>The errno value it left.</summary>
    public int Errno { get; }

    private static string Format(string call, int errno, string? detail)
    {
        string text = $"{call}: {Interop.Errno.Name(errno)} ({errno}): {Marshal.GetPInvokeErrorMessage(errno)}";
        return detail is null ? text : $"{text} ({detail})";
    }
}
