using FastPath.Dataplane.Interop;

namespace FastPath.Dataplane.Pipeline;

/// <summary>
/// Pins the calling OS thread to one CPU with <c>sched_setaffinity</c>, so a worker busy-polls on its own core and
/// its caches stay warm. Thread-safe: acts on the calling thread only.
/// </summary>
/// <remarks>
/// .NET threads are 1:1 OS threads and the runtime never migrates managed code between them, so pinning the OS
/// thread pins the worker. The pid argument 0 means "the calling thread" for this syscall (sched_setaffinity(2)).
/// </remarks>
public static unsafe class CorePinning
{
    // 1024 CPUs, the size of glibc's cpu_set_t.
    private const int MaskWords = 16;

    /// <summary>Restricts the calling thread to <paramref name="cpu"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The CPU number is negative or above 1023.</exception>
    /// <exception cref="ErrnoException">The kernel refused (e.g. the CPU is offline or outside the cgroup's set).</exception>
    public static void PinCurrentThread(int cpu)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(cpu, MaskWords * 64);
        ulong* mask = stackalloc ulong[MaskWords];
        new Span<ulong>(mask, MaskWords).Clear();
        mask[cpu / 64] = 1UL << (cpu % 64);
        Errno.Check(Libc.SchedSetaffinity(0, MaskWords * sizeof(ulong), mask), "sched_setaffinity");
    }

    /// <summary>The CPUs the calling thread may run on.</summary>
    public static int[] AllowedCpus()
    {
        ulong* mask = stackalloc ulong[MaskWords];
        Errno.Check(Libc.SchedGetaffinity(0, MaskWords * sizeof(ulong), mask), "sched_getaffinity");
        var cpus = new List<int>();
        for (int word = 0; word < MaskWords; word++)
        {
            for (ulong bits = mask[word]; bits != 0; bits &= bits - 1)
            {
                cpus.Add(word * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits));
            }
        }

        return [.. cpus];
    }

    /// <summary>The CPU the calling thread is running on right now.</summary>
    public static int CurrentCpu() => Libc.SchedGetcpu();
}
