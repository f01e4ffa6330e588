namespace FastPath.Dataplane.Parsing;

/// <summary>One contiguous frame to parse: its first byte and its length in bytes.</summary>
/// <remarks>The parser reads only the <see cref="Length"/> bytes starting at <see cref="Data"/>.</remarks>
public readonly unsafe struct FrameView(byte* data, int length)
{
    /// <summary>First byte of the Ethernet header.</summary>
    public readonly byte* Data = data;

    /// <summary>Bytes available from <see cref="Data"/>.</summary>
    public readonly int Length = length;
}
