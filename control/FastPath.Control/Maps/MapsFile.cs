using System.Net;
using System.Text.Json;

namespace FastPath.Control.Maps;

/// <summary>
/// Loads a maps file (<c>{ "mappings": [ { "tenant": 100, "user": "10.1.0.5", "secure": "198.18.0.5" } ] }</c>)
/// and checks it completely before anyone uses it: every entry valid, no user key and no secure
/// address twice. Errors name the file and the entry (<c>maps.json: mappings[3].user: not an IP address ('x')</c>).
/// </summary>
public static class MapsFile
{
    /// <summary>Reads and validates <paramref name="path"/>.</summary>
    /// <exception cref="InputFileException">The file is not valid JSON or an entry is invalid or conflicting.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static IReadOnlyList<MapEntry> Load(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>Validates maps-file JSON; <paramref name="source"/> names it in errors.</summary>
    public static IReadOnlyList<MapEntry> Parse(ReadOnlySpan<byte> json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException error)
        {
            throw new InputFileException($"{source}: line {error.LineNumber + 1}, column {error.BytePositionInLine + 1}: invalid JSON");
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Error(source, "$", "expected an object with a \"mappings\" array");
            }

            JsonElement mappings = default;
            foreach (JsonProperty property in root.EnumerateObject())
            {
                if (property.NameEquals("mappings"))
                {
                    mappings = property.Value;
                }
                else
                {
                    throw Error(source, property.Name, "unknown field (expected \"mappings\")");
                }
            }

            if (mappings.ValueKind != JsonValueKind.Array)
            {
                throw Error(source, "mappings", mappings.ValueKind == JsonValueKind.Undefined ? "missing" : "expected an array");
            }

            var entries = new List<MapEntry>(mappings.GetArrayLength());
            var checker = new MapConflictChecker();
            int index = 0;
            foreach (JsonElement item in mappings.EnumerateArray())
            {
                string at = $"mappings[{index}]";
                MapEntry entry = ParseEntry(item, source, at);
                string? conflict = checker.TryAdd(entry, at);
                if (conflict is not null)
                {
                    throw Error(source, at, conflict);
                }

                entries.Add(entry);
                index++;
            }

            return entries;
        }
    }

    private static MapEntry ParseEntry(JsonElement item, string source, string at)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw Error(source, at, "expected an object with tenant, user and secure");
        }

        long? tenant = null;
        string? user = null;
        string? secure = null;
        foreach (JsonProperty property in item.EnumerateObject())
        {
            switch (property.Name)
            {
                case "tenant":
                    if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt64(out long t))
                    {
                        throw Error(source, at + ".tenant", "expected an integer");
                    }

                    tenant = t;
                    break;
                case "user":
                    user = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : throw Error(source, at + ".user", "expected a string");
                    break;
                case "secure":
                    secure = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : throw Error(source, at + ".secure", "expected a string");
                    break;
                default:
                    throw Error(source, $"{at}.{property.Name}", "unknown field (expected tenant, user, secure)");
            }
        }

        if (tenant is null)
        {
            throw Error(source, at + ".tenant", "missing");
        }

        if (MapEntryRules.CheckTenant(tenant.Value) is string tenantError)
        {
            throw Error(source, at + ".tenant", tenantError);
        }

        IPAddress userAddress = ParseAddress(user, source, at + ".user");
        IPAddress secureAddress = ParseAddress(secure, source, at + ".secure");

        if (MapEntryRules.CheckFamilies(userAddress, secureAddress) is string familyError)
        {
            throw Error(source, at, familyError);
        }

        return new MapEntry((int)tenant.Value, userAddress, secureAddress);
    }

    private static IPAddress ParseAddress(string? text, string source, string at)
    {
        if (text is null)
        {
            throw Error(source, at, "missing");
        }

        return MapEntryRules.TryParseAddress(text, out IPAddress address, out string error) ? address : throw Error(source, at, error);
    }

    private static InputFileException Error(string source, string path, string reason) => new($"{source}: {path}: {reason}");
}
