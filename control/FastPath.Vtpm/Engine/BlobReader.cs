namespace FastPath.Vtpm.Engine;

/// <summary>Reads the canonical state blob; any short or malformed field is an <see cref="InvalidDataException"/>
/// naming the field, because a state file that does not parse must stop the server, not be half-loaded.</summary>
/// <remarks>Not thread-safe; one per deserialization.</remarks>
internal ref struct BlobReader
{
    private TpmReader _reader;

    public BlobReader(ReadOnlySpan<byte> blob) => _reader = new TpmReader(blob);

    public readonly int Remaining => _reader.Remaining;

    public byte U8(string field) => _reader.TryU8(out byte v) ? v : throw Truncated(field);

    public bool Bool(string field) => U8(field) != 0;

    public ushort U16(string field) => _reader.TryU16(out ushort v) ? v : throw Truncated(field);

    public uint U32(string field) => _reader.TryU32(out uint v) ? v : throw Truncated(field);

    public ulong U64(string field) => _reader.TryU64(out ulong v) ? v : throw Truncated(field);

    public byte[] Blob(string field)
    {
        uint length = U32(field);
        return length <= int.MaxValue && _reader.TryBytes((int)length, out ReadOnlySpan<byte> bytes) ? bytes.ToArray() : throw Truncated(field);
    }

    private static InvalidDataException Truncated(string field) => new($"vTPM state blob: field '{field}' is truncated");
}
