using System.Runtime.InteropServices;

namespace FastPath.Dataplane.Pipeline;

/// <summary>
/// One worker's counters, three whole cache lines so that no two workers' counters share a line (a shared line
/// would bounce between cores on every increment).
/// </summary>
/// <remarks>
/// Concurrency: only the owning worker writes (plain stores — one writer needs no atomics); any thread reads with
/// <see cref="Volatile"/> loads, which on x64 never tear an aligned 64-bit value. A reader may see a batch's rx
/// before its tx: figures are per-field consistent, not a snapshot across fields.
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = Size)]
public unsafe struct WorkerCounters
{
    /// <summary>Bytes per record: three cache lines.</summary>
    public const int Size = 192;

    /// <summary>Slots for per-reason drops; at least <see cref="DropReasons.Count"/>.</summary>
    public const int DropSlots = 16;

    /// <summary>Frames received from ports.</summary>
    [FieldOffset(0)] public long RxPackets;

    /// <summary>Bytes received.</summary>
    [FieldOffset(8)] public long RxBytes;

    /// <summary>Frames handed to a port's TX.</summary>
    [FieldOffset(16)] public long TxPackets;

    /// <summary>Bytes handed to a port's TX.</summary>
    [FieldOffset(24)] public long TxBytes;

    /// <summary>Non-empty batches processed.</summary>
    [FieldOffset(32)] public long Batches;

    /// <summary>Stopwatch ticks spent on non-empty batches.</summary>
    [FieldOffset(40)] public long BusyTicks;

    /// <summary>Stopwatch ticks spent polling with nothing to do.</summary>
    [FieldOffset(48)] public long IdleTicks;

    /// <summary>Polls that found nothing.</summary>
    [FieldOffset(56)] public long IdlePolls;

    /// <summary>Dropped frames per <see cref="DropReason"/>; slot 0 (<see cref="DropReason.None"/>) stays 0.</summary>
    [FieldOffset(64)] public fixed long Drops[DropSlots];
}
