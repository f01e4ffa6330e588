namespace FastPath.Dataplane.Capture;

/// <summary>One frame taken off a capture ring (its bytes stay valid until the next <see cref="CaptureSession.Drain"/> call).</summary>
/// <param name="TimestampNanoseconds">Wall-clock time of its batch, ns since the Unix epoch.</param>
/// <param name="Direction"><see cref="CaptureDirection.Rx"/> or <see cref="CaptureDirection.Tx"/>.</param>
/// <param name="Reason">Why it was dropped, or <see cref="DropReason.None"/>.</param>
/// <param name="OriginalLength">Its length on the wire.</param>
/// <param name="Data">The first snaplen bytes.</param>
public readonly ref struct CapturedFrame(long TimestampNanoseconds, CaptureDirection Direction, DropReason Reason, int OriginalLength, ReadOnlySpan<byte> Data)
{
    /// <summary>Wall-clock time of its batch, ns since the Unix epoch.</summary>
    public long TimestampNanoseconds { get; } = TimestampNanoseconds;

    /// <summary>Rx or Tx.</summary>
    public CaptureDirection Direction { get; } = Direction;

    /// <summary>Why it was dropped, or <see cref="DropReason.None"/>.</summary>
    public DropReason Reason { get; } = Reason;

    /// <summary>Its length on the wire.</summary>
    public int OriginalLength { get; } = OriginalLength;

    /// <summary>The captured bytes.</summary>
    public ReadOnlySpan<byte> Data { get; } = Data;
}
