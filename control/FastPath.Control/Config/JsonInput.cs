using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace FastPath.Control.Config;

/// <summary>
/// How FastPath reads JSON from outside (config, maps files, control requests): comments and trailing commas
/// allowed, a property given twice refused (otherwise the last one silently wins, and two readers of one file
/// can disagree on what it says), and the bytes checked to be UTF-8 before any name or value is decoded (the
/// reader's own decoding error names no file and no position). Size limits for files are here too.
/// </summary>
/// <remarks>Stateless; thread-safe.</remarks>
public static class JsonInput
{
    /// <summary>Largest daemon configuration file read (a few KiB is typical).</summary>
    public const long MaxConfigBytes = 1 << 20;

    /// <summary>Largest maps file read: about 4M entries of the usual form, more than the table can hold.</summary>
    public const long MaxMapsBytes = 512L << 20;

    /// <summary>Options for <see cref="JsonDocument"/>: comments skipped, trailing commas, no duplicate properties.</summary>
    public static JsonDocumentOptions DocumentOptions { get; } = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        AllowDuplicateProperties = false,
    };

    /// <summary>Options for <see cref="Utf8JsonReader"/> (which cannot see duplicates: its callers check them).</summary>
    public static JsonReaderOptions ReaderOptions { get; } = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>Null when <paramref name="json"/> is valid UTF-8, else where it is not (<c>line 3, column 7</c>, 1-based; the column counts bytes).</summary>
    public static string? FindInvalidUtf8(ReadOnlySpan<byte> json)
    {
        if (Utf8.IsValid(json))
        {
            return null;
        }

        // Decode until the first invalid sequence; what was consumed before it is the offset.
        int offset = 0;
        Span<char> scratch = stackalloc char[1024];
        while (true)
        {
            OperationStatus status = Utf8.ToUtf16(json[offset..], scratch, out int read, out _, replaceInvalidSequences: false, isFinalBlock: true);
            offset += read;
            if (status != OperationStatus.DestinationTooSmall)
            {
                break;
            }
        }

        ReadOnlySpan<byte> before = json[..offset];
        int line = before.Count((byte)'\n') + 1;
        int column = offset - (before.LastIndexOf((byte)'\n') + 1) + 1;
        return $"line {line}, column {column}: invalid UTF-8";
    }

    /// <summary>What is wrong, and where when the reader knows (<c>line 3, column 7: invalid JSON</c>,
    /// <c>property 'port' is given twice</c>), from the reader's exception.</summary>
    public static string Describe(JsonException error)
    {
        const string DuplicatePrefix = "Duplicate property '";
        if (error.Message.StartsWith(DuplicatePrefix, StringComparison.Ordinal))
        {
            int end = error.Message.IndexOf('\'', DuplicatePrefix.Length);
            string name = end < 0 ? "?" : error.Message[DuplicatePrefix.Length..end];
            return $"property '{name}' is given twice (each may appear once per object)";
        }

        return error.LineNumber is long line
            ? $"line {line + 1}, column {(error.BytePositionInLine ?? 0) + 1}: invalid JSON"
            : "invalid JSON";
    }
}
