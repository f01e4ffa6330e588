using System.Globalization;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Memory;
using Microsoft.Win32.SafeHandles;

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
        if (args.Length == 6 && args[0] is "process-payload" or "process-header")
        {
            return InAnotherProcess(args);
        }

        if (args.Length == 5 && args[0] == "guest-toctou")
        {
            return Toctou(args[1], System.Net.IPAddress.Parse(args[2]), ushort.Parse(args[3], CultureInfo.InvariantCulture), int.Parse(args[4], CultureInfo.InvariantCulture));
        }

        if (args.Length == 2 && args[0] is "guest-probe-header" or "guest-probe-header-end" or "guest-probe-before-start" or "guest-probe-past-end" or "guest-hold")
        {
            return AsGuest(args[0], args[1]);
        }

        if (args.Length != 1)
        {
            Console.Error.WriteLine("usage: FastPath.Dataplane.Probe last-byte|past-end|before-start|guest-payload|guest-header|guest-past-end");
            Console.Error.WriteLine("       FastPath.Dataplane.Probe guest-probe-header|guest-probe-header-end|guest-probe-before-start|guest-probe-past-end|guest-hold SOCKET");
            Console.Error.WriteLine("       FastPath.Dataplane.Probe guest-toctou SOCKET DESTINATION PORT COUNT");
            Console.Error.WriteLine("       FastPath.Dataplane.Probe process-payload|process-header MEMFD-PATH REGION-LENGTH PAYLOAD-OFFSET PAYLOAD-LENGTH TOUCH-OFFSET");
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

        return Report(target, args[0].StartsWith("guest", StringComparison.Ordinal) ? guest.Pointer : region.Pointer);
    }

    /// <summary>
    /// A guest in its own process: it opens only the payload memfd of the test's pool (through
    /// /proc/PID/fd, standing in for SCM_RIGHTS), attaches it at its offset, and touches TOUCH-OFFSET.
    /// </summary>
    private static int InAnotherProcess(string[] args)
    {
        nuint length = nuint.Parse(args[2], CultureInfo.InvariantCulture);
        nuint payloadOffset = nuint.Parse(args[3], CultureInfo.InvariantCulture);
        nuint payloadLength = nuint.Parse(args[4], CultureInfo.InvariantCulture);
        nuint touch = nuint.Parse(args[5], CultureInfo.InvariantCulture);
        using var memfd = new SafeFileHandle(Libc.Open(args[1], LinuxConstants.ORdWr | LinuxConstants.OCloexec, 0), ownsHandle: true);
        if (memfd.IsInvalid)
        {
            Console.Error.WriteLine($"cannot open {args[1]}: errno {Marshal.GetLastPInvokeError()}");
            return 1;
        }

        using GuardedRegion guest = GuardedRegion.Attach(length, [new RegionSegment(memfd, payloadOffset, payloadLength, RegionAccess.ReadWrite)]);
        return Report(guest.Pointer + touch, guest.Pointer);
    }

    /// <summary>
    /// A guest on a real guest channel: <c>guest-probe-header</c> connects and touches a header page, the other
    /// <c>guest-probe-*</c> modes the last header byte and the guard pages around its reservation (SIGSEGV expected);
    /// <c>guest-hold</c> connects, takes the empty frames it is offered, says how many and waits to be killed.
    /// </summary>
    private static int AsGuest(string mode, string socket)
    {
        using var client = Guest.GuestClient.Connect(socket);
        if (mode == "guest-probe-header")
        {
            Guest.HeaderProbe.ReadThenWrite(client, Console.Out);
            return 0;
        }

        if (mode.StartsWith("guest-probe-", StringComparison.Ordinal))
        {
            // Everything in the guest's reservation but its payload memory: the last header byte, the guard pages.
            byte* target = mode switch
            {
                "guest-probe-header-end" => client.RegionBase + client.PayloadSegmentOffset - 1,
                "guest-probe-before-start" => client.RegionBase - 1,
                _ => client.RegionBase + client.RegionLength,
            };
            return Report(target, client.RegionBase);
        }

        Span<uint> frames = stackalloc uint[64];
        int held = 0;
        for (int attempt = 0; attempt < 5000 && held == 0; attempt++)
        {
            held = client.TakeFrames(frames);
            Thread.Sleep(1);
        }

        Console.Out.WriteLine($"holding {held} frames");
        Console.Out.Flush();
        Thread.Sleep(Timeout.Infinite);
        return 0;
    }

    /// <summary>
    /// A guest that changes what it sent while the data plane reads it: COUNT UDP payloads to DESTINATION:PORT, each
    /// written and sent from a fill frame, while a second thread rewrites every byte of the guest's payload memory
    /// without pause. The data plane must copy once and checksum its copy, so every frame that leaves still verifies.
    /// </summary>
    private static int Toctou(string socket, System.Net.IPAddress destination, ushort port, int count)
    {
        using var client = Guest.GuestClient.Connect(socket);
        byte* memory = client.RegionBase + client.PayloadSegmentOffset;
        int bytes = (int)(client.FrameCount * (uint)client.PayloadSlotSize);
        bool stop = false;
        var scribbler = new Thread(() =>
        {
            byte value = 0;
            while (!Volatile.Read(ref stop))
            {
                new Span<byte>(memory, bytes).Fill(value++);
            }
        }) { IsBackground = true };
        scribbler.Start();

        Span<uint> frames = stackalloc uint[32];
        Span<Guest.GuestTxDescriptor> sends = stackalloc Guest.GuestTxDescriptor[32];
        byte[] address = destination.GetAddressBytes();
        int sent = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (sent < count && DateTime.UtcNow < deadline)
        {
            int taken = client.TakeFrames(frames[..Math.Min(frames.Length, count - sent)]);
            for (int i = 0; i < taken; i++)
            {
                ref Guest.GuestTxDescriptor send = ref sends[i];
                send = default;
                send.FrameIndex = frames[i];
                send.PayloadOffset = Guest.GuestLayout.NewPayloadOffset;
                send.Length = (ushort)(64 + (sent + i) % 900);
                send.SourcePort = 7;
                send.DestinationPort = port;
                send.Protocol = 17;
                send.Family = (byte)(address.Length == 4 ? 4 : 6);
                fixed (byte* wanted = send.Destination)
                {
                    address.CopyTo(new Span<byte>(wanted, 16));
                }
            }

            int posted = 0;
            while (posted < taken)
            {
                posted += client.Send(sends[posted..taken]);
            }

            sent += taken;
            if (taken == 0)
            {
                Thread.Sleep(1);
            }
        }

        Volatile.Write(ref stop, true);
        scribbler.Join();
        Console.Out.WriteLine($"sent {sent}");
        return sent == count ? 0 : 1;
    }

    private static int Report(byte* target, byte* origin)
    {
        // Announce the access first: a test that sees a signal can then tell it came from this access.
        Console.Out.WriteLine($"touching offset {(long)(target - origin)}");
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
