namespace FastPath.Dataplane.Parsing;

/// <summary>
/// One vector width's part of the fast path: load a frame's first 64 bytes, say which common shape it has,
/// and write a record from a template. The batch loop in <see cref="HeaderParser"/> is shared by every width.
/// </summary>
/// <remarks>Thread-safe: a value holding one frame's vectors, owned by the loop iteration that loaded it.</remarks>
internal unsafe interface IParseKernel<TSelf>
    where TSelf : struct, IParseKernel<TSelf>
{
    /// <summary>Reads bytes [0, 64) of <paramref name="frame"/> and nothing else; the caller checked the length.</summary>
    static abstract TSelf Load(byte* frame);

    /// <summary>The <see cref="ParseShapes"/> shape the frame has, or -1.</summary>
    int Shape(byte* frame);

    /// <summary>Writes the whole record of a frame matching <paramref name="template"/>.</summary>
    void Store(int template, ref PacketMeta meta);
}
