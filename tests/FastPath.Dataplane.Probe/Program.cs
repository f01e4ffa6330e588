using System.Globalization;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Memory;

namespace FastPath.Dataplane.Probe;

/// <summary>
/// <c>FastPath.Dataplane.Probe ACCESS</c>: builds a frame pool, maps its guest view, performs one access
/// and exits 0 if it did not fault. Accesses that hit a guard page or a hidden header page are meant to
/// kill this process with SIGSEGV (exit status 139); the test that runs it checks which happened.
/// </summary>
public static unsafe class Program
{
    private const uint Frames = 64;

    public static int Main(string[] args)
    {
        if (args.Length != 1)
        {
            Console.Error.WriteLine("usage: FastPath.Dataplane.Probe last-byte|past-end|before-start|guest-payload|guest-header|guest-past-end");
            return 2;
        }

        using var pool = new FramePool(Frames);
        using GuardedRegion guest = pool.Region.MapView(FramePool.GuestAccess);
        GuardedRegion region = pool.Region;
        byte* target = args[0] switch
        {
            "last-byte" => region.Pointer + region.Length - 1,
            "past-end" => region.Pointer + region.Length,
            "before-start" => region.Pointer - 1,
            "guest-payload" => guest.Pointer + pool.PayloadOffset(Frames - 1) + (uint)pool.PayloadSlotSize - 1,
            "guest-header" => guest.Pointer + pool.HeaderOffset(0),
            "guest-past-end" => guest.Pointer + guest.Length,
            _ => null,
        };
        if (target == null)
        {
            Console.Error.WriteLine($"unknown access '{args[0]}'");
            return 2;
        }

        // Announce the access first: a test that sees a signal can then tell it came from this access.
        Console.Out.WriteLine($"touching offset {(long)(target - (args[0].StartsWith("guest", StringComparison.Ordinal) ? guest.Pointer : region.Pointer))}");
        Console.Out.Flush();
        byte value = Touch(target);
        Console.Out.WriteLine(value.ToString(CultureInfo.InvariantCulture));
        return 0;
    }

    // The access runs inside libc, not in managed code: the runtime turns a fault in managed code into a
    // fatal AccessViolationException (SIGABRT, 134), but passes a fault in native code on to the default
    // action, so the kernel's SIGSEGV is what ends the process — the signal the tests look for.
    private static byte Touch(byte* address)
    {
        byte value;
        Memmove(&value, address, 1);
        byte next = (byte)(value + 1);
        Memmove(address, &next, 1);
        return value;
    }

    [DllImport("libc", EntryPoint = "memmove")]
    private static extern void* Memmove(void* destination, void* source, nuint count);
}
