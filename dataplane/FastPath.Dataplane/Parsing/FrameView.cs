namespace FastPath.Dataplane.Parsing;

/// <summary>One contiguous frame: its first byte, its length in bytes, and the offload work it still carries.</summary>
/// <remarks>The parser reads only the <see cref="Length"/> bytes starting at <see cref="Data"/>.</remarks>
public readonly unsafe struct FrameView(byte* data, int length, FrameOffload offload = default)
{
    /// <summary>First byte of the Ethernet header.</summary>
    public readonly byte* Data = data;

    /// <summary>Bytes available from <see cref="Data"/>.</summary>
    public readonly int Length = length;

    /// <summary>Segmentation and checksum work left to the egress (none for most frames).</summary>
    public readonly FrameOffload Offload = offload;
}
