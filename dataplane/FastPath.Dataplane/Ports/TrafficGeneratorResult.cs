namespace FastPath.Dataplane.Ports;

/// <summary>What a <see cref="TrafficGenerator"/> run did.</summary>
/// <param name="Sent">Frames the kernel accepted.</param>
/// <param name="Elapsed">From the first frame handed over to the last one accepted.</param>
/// <param name="FrameSize">Frame size on the wire including the FCS.</param>
/// <param name="TxErrors">Send calls the kernel refused for another reason than back-pressure.</param>
public sealed record TrafficGeneratorResult(long Sent, TimeSpan Elapsed, int FrameSize, long TxErrors)
{
    /// <summary>Frames per second over <see cref="Elapsed"/>.</summary>
    public double PacketsPerSecond => Elapsed > TimeSpan.Zero ? Sent / Elapsed.TotalSeconds : 0;

    /// <summary>Bits per second on the wire: frames including the FCS, without preamble and inter-frame gap.</summary>
    public double BitsPerSecond => PacketsPerSecond * FrameSize * 8;
}
