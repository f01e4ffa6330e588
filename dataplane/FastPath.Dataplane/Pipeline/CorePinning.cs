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

    /// <summary>
    /// Moves every thread of the process that exists now (GC, JIT, finalizer, timers, the caller) off
    /// <paramref name="workerCores"/>, so only the workers run there. Threads created later inherit their creator's
    /// mask. Does nothing when no other core would be left.
    /// </summary>
    public static void MoveOtherThreadsOff(ReadOnlySpan<int> workerCores)
    {
        int[] allowed = AllowedCpus();
        ulong* mask = stackalloc ulong[MaskWords];
        new Span<ulong>(mask, MaskWords).Clear();
        int left = 0;
        foreach (int cpu in allowed)
        {
            if (!workerCores.Contains(cpu))
            {
                mask[cpu / 64] |= 1UL << (cpu % 64);
                left++;
            }
        }

        if (left != 0)
        {
            SetAll(mask);
        }
    }

    /// <summary>Gives every thread of the process all of <paramref name="cpus"/> again (undoes <see cref="MoveOtherThreadsOff"/>).</summary>
    public static void ReleaseAll(ReadOnlySpan<int> cpus)
    {
        ulong* mask = stackalloc ulong[MaskWords];
        new Span<ulong>(mask, MaskWords).Clear();
        foreach (int cpu in cpus)
        {
            mask[cpu / 64] |= 1UL << (cpu % 64);
        }

        SetAll(mask);
    }

    private static void SetAll(ulong* mask)
    {
        foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (int.TryParse(Path.GetFileName(task), out int tid))
            {
                // A thread may exit between the listing and the call (ESRCH); that one needs no moving.
                Libc.SchedSetaffinity(tid, MaskWords * sizeof(ulong), mask);
            }
        }
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
