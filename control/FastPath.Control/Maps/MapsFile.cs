using System.Net;
using System.Text;
using System.Text.Json;
using FastPath.Control.Config;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Ports;

namespace FastPath.Control.Maps;

/// <summary>
/// Loads a maps file (<c>{ "mappings": [ { "tenant": 100, "user": "10.1.0.5", "secure": "198.18.0.5" } ] }</c>)
/// and checks it completely before anyone uses it: every entry valid, no user key and no secure
/// address twice. Errors name the file and the entry (<c>maps.json: mappings[3].user: not an IP address ('x')</c>).
/// </summary>
/// <remarks>
/// The file is read with a forward-only reader straight into the table's own entries (structs with no references),
/// and the duplicate checks key on those entries. A million-entry import in a daemon therefore leaves no million
/// small objects for the garbage collector to trace and move: every collection stops the workers too (the daemon
/// runs the non-concurrent GC), and an object-per-entry loader held them for hundreds of milliseconds.
/// Thread-safe: stateless.
/// </remarks>
public static class MapsFile
{
    // The longest address text a maps file can hold: an IPv6 address with an embedded IPv4 tail is 45 characters.
    private const int MaxAddressChars = 64;

    /// <summary>Reads and validates <paramref name="path"/>: a regular file (not a FIFO or a device) of at most
    /// <see cref="JsonInput.MaxMapsBytes"/>.</summary>
    /// <exception cref="InputFileException">The file is not a regular file, too large, not valid JSON, or an entry is invalid or conflicting.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static MappingEntry[] Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = InputFile.ReadAllBytes(path, JsonInput.MaxMapsBytes);
        }
        catch (InvalidDataException error)
        {
            throw new InputFileException(error.Message);
        }

        return Parse(bytes, path);
    }

    /// <summary>Validates maps-file JSON; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="InputFileException">The JSON is invalid or an entry is invalid or conflicting.</exception>
    public static MappingEntry[] Parse(ReadOnlySpan<byte> json, string source)
    {
        if (JsonInput.FindInvalidUtf8(json) is string where)
        {
            throw new InputFileException($"{source}: {where}");
        }

        var reader = new Utf8JsonReader(json, JsonInput.ReaderOptions);
        try
        {
            return ParseDocument(ref reader, source);
        }
        catch (JsonException error)
        {
            throw new InputFileException($"{source}: line {error.LineNumber + 1}, column {error.BytePositionInLine + 1}: invalid JSON");
        }
    }

    private static MappingEntry[] ParseDocument(ref Utf8JsonReader reader, string source)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Error(source, "$", "expected an object with a \"mappings\" array");
        }

        MappingEntry[]? entries = null;
        while (Next(ref reader) != JsonTokenType.EndObject)
        {
            if (!reader.ValueTextEquals("mappings"u8))
            {
                throw Error(source, reader.GetString()!, "unknown field (expected \"mappings\")");
            }

            if (entries is not null)
            {
                throw Error(source, "mappings", "given twice (each field may appear once)");
            }

            if (Next(ref reader) != JsonTokenType.StartArray)
            {
                throw Error(source, "mappings", "expected an array");
            }

            entries = ParseMappings(ref reader, source);
        }

        // Anything after the object is a JSON error, reported as such.
        while (reader.Read())
        {
        }

        return entries ?? throw Error(source, "mappings", "missing");
    }

    private static MappingEntry[] ParseMappings(ref Utf8JsonReader reader, string source)
    {
        var entries = new List<MappingEntry>();
        var users = new Dictionary<MappingKey, int>();
        var secures = new Dictionary<MappingKey, int>();
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            int index = entries.Count;
            MappingEntry entry = ParseEntry(ref reader, source, index);
            if (!users.TryAdd(entry.User, index))
            {
                throw Error(source, At(index), $"duplicate user key (tenant {entry.User.Tenant}, {entry.User.ToAddress()}): also {At(users[entry.User])}");
            }

            if (!secures.TryAdd(entry.Secure, index))
            {
                throw Error(source, At(index), $"duplicate secure address {entry.Secure.ToAddress()}: also {At(secures[entry.Secure])}");
            }

            entries.Add(entry);
        }

        return entries.ToArray();
    }

    private static MappingEntry ParseEntry(ref Utf8JsonReader reader, string source, int index)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw Error(source, At(index), "expected an object with tenant, user and secure");
        }

        long? tenant = null;
        IPAddress? user = null;
        IPAddress? secure = null;
        while (Next(ref reader) != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals("tenant"u8))
            {
                Once(tenant is not null, source, index, ".tenant");
                if (Next(ref reader) != JsonTokenType.Number || !reader.TryGetInt64(out long value))
                {
                    throw Error(source, At(index) + ".tenant", "expected an integer");
                }

                tenant = value;
            }
            else if (reader.ValueTextEquals("user"u8))
            {
                Once(user is not null, source, index, ".user");
                Next(ref reader);
                user = ParseAddress(ref reader, source, index, ".user");
            }
            else if (reader.ValueTextEquals("secure"u8))
            {
                Once(secure is not null, source, index, ".secure");
                Next(ref reader);
                secure = ParseAddress(ref reader, source, index, ".secure");
            }
            else
            {
                throw Error(source, $"{At(index)}.{reader.GetString()}", "unknown field (expected tenant, user, secure)");
            }
        }

        if (tenant is null)
        {
            throw Error(source, At(index) + ".tenant", "missing");
        }

        if (MapEntryRules.CheckTenant(tenant.Value) is string tenantError)
        {
            throw Error(source, At(index) + ".tenant", tenantError);
        }

        if (user is null || secure is null)
        {
            throw Error(source, At(index) + (user is null ? ".user" : ".secure"), "missing");
        }

        if (MapEntryRules.CheckFamilies(user, secure) is string familyError)
        {
            throw Error(source, At(index), familyError);
        }

        return MappingEntry.Create((int)tenant.Value, user, secure);
    }

    private static IPAddress ParseAddress(ref Utf8JsonReader reader, string source, int index, string field)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw Error(source, At(index) + field, "expected a string");
        }

        // Addresses are decoded on the stack; only a value too long to be an address becomes a string (for its message).
        Span<char> text = stackalloc char[MaxAddressChars];
        int length = reader.ValueIsEscaped || reader.ValueSpan.Length > MaxAddressChars
            ? -1
            : Encoding.UTF8.GetChars(reader.ValueSpan, text);
        ReadOnlySpan<char> chars = length < 0 ? reader.GetString().AsSpan() : text[..length];
        return MapEntryRules.TryParseAddress(chars, out IPAddress address, out string error) ? address : throw Error(source, At(index) + field, error);
    }

    // The next token. The reader itself throws JsonException (with line and column) for malformed or truncated input.
    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType;
    }

    private static string At(int index) => $"mappings[{index}]";

    // A field given twice would otherwise be last-one-wins, and two readers of one file could disagree.
    private static void Once(bool seen, string source, int index, string field)
    {
        if (seen)
        {
            throw Error(source, At(index) + field, "given twice (each field may appear once)");
        }
    }

    private static InputFileException Error(string source, string path, string reason) => new($"{source}: {path}: {reason}");
}
