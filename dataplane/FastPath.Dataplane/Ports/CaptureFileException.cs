namespace FastPath.Dataplane.Ports;

/// <summary>A capture file is malformed or unsupported; names the file and the byte offset of the problem.</summary>
/// <remarks>The CLI maps it to exit code 2 (bad input file).</remarks>
public sealed class CaptureFileException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CaptureFileException(string path, long offset, string reason)
        : base($"{path}: offset {offset}: {reason}")
    {
        FilePath = path;
        Offset = offset;
        Reason = reason;
    }

    /// <summary>The capture file.</summary>
    public string FilePath { get; }

    /// <summary>Byte offset in the file where the bad structure starts.</summary>
    public long Offset { get; }

    /// <summary>What is wrong, without the path and offset.</summary>
    public string Reason { get; }
}
