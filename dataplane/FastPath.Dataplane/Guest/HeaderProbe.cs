using FastPath.Dataplane.Interop;

namespace FastPath.Dataplane.Guest;

/// <summary>
/// The hostile guest of the isolation test (<c>fastpath guest probe-header</c>): reads, then writes, the first header
/// slot as seen from a connected guest. The MMU must stop the read: the process dies of SIGSEGV and never returns.
/// </summary>
/// <remarks>Stateless. The accesses run in libc (memmove), because a fault in managed code becomes a runtime abort (SIGABRT) rather than the kernel's SIGSEGV.</remarks>
public static unsafe class HeaderProbe
{
    /// <summary>
    /// Announces the offset on <paramref name="log"/>, then reads and writes a byte of header slot 0. Returns only if
    /// both accesses succeeded — which would mean the header pages are reachable.
    /// </summary>
    public static byte ReadThenWrite(GuestClient client, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(log);
        byte* header = client.RegionBase;
        log.WriteLine("touching header slot 0 at offset 0 (read, then write)");
        log.Flush();
        byte value;
        Libc.Memmove(&value, header, 1);
        log.WriteLine($"read {value} from a header page");
        log.Flush();
        byte changed = (byte)~value;
        Libc.Memmove(header, &changed, 1);
        log.WriteLine("wrote a header page");
        log.Flush();
        return value;
    }
}
