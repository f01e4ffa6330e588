namespace FastPath.Control.Stats;

/// <summary>
/// The .NET runtime's garbage collections since start. Every collection suspends the workers too (they are managed
/// threads), so the pause total is data-plane time lost: an operator reads it next to the drop counters.
/// </summary>
/// <param name="Collections">Collections per generation (0, 1, 2); a generation-2 count includes the lower ones' work.</param>
/// <param name="PauseSeconds">Total time all managed threads were suspended for collections.</param>
/// <param name="HeapBytes">Managed heap size after the last collection.</param>
public sealed record RuntimeStats(long[] Collections, double PauseSeconds, long HeapBytes)
{
    /// <summary>The figures now.</summary>
    public static RuntimeStats Now() =>
        new([GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)], GC.GetTotalPauseDuration().TotalSeconds, GC.GetGCMemoryInfo().HeapSizeBytes);
}
