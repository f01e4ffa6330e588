using FastPath.Dataplane.Mapping;
using Google.Protobuf.Collections;
using Mvccpb;

namespace FastPath.Control.Maps.Etcd;

/// <summary>
/// Turns a page of user keys into entries with the maps-file parser: the page's values become one maps document,
/// parsed once; only a page holding a malformed value is parsed key by key, so each bad key is named and skipped.
/// </summary>
/// <remarks>Thread-safe: stateless.</remarks>
internal static class EtcdPageParser
{
    public static void Parse(RepeatedField<KeyValue> kvs, int prefixLength, List<MappingEntry> into, Action<string, string> malformed)
    {
        var keys = new List<(string Key, MappingKey User, KeyValue Kv)>(kvs.Count);
        int bytes = 16;
        foreach (KeyValue kv in kvs)
        {
            string key = kv.Key.ToStringUtf8();
            string name = key[Math.Min(prefixLength, key.Length)..];
            if (name == EtcdKeys.RetiredName)
            {
                continue;
            }

            if (!EtcdKeys.TryParseUserName(name, out MappingKey user, out string why))
            {
                malformed(key, "key: " + why);
                continue;
            }

            if (kv.Value.Length > EtcdKeys.MaxValueBytes)
            {
                malformed(key, $"value of {kv.Value.Length} bytes (limit {EtcdKeys.MaxValueBytes})");
                continue;
            }

            keys.Add((key, user, kv));
            bytes += kv.Value.Length + 1;
        }

        if (keys.Count == 0)
        {
            return;
        }

        byte[] document = new byte[bytes];
        int length = 0;
        Append("{\"mappings\":["u8, document, ref length);
        for (int i = 0; i < keys.Count; i++)
        {
            if (i > 0)
            {
                Append(","u8, document, ref length);
            }

            Append(keys[i].Kv.Value.Span, document, ref length);
        }

        Append("]}"u8, document, ref length);
        MappingEntry[]? entries = null;
        try
        {
            entries = MapsFile.Parse(document.AsSpan(0, length), "etcd page");
        }
        catch (InputFileException)
        {
        }

        if (entries is not null && entries.Length == keys.Count && AllMatch(entries, keys))
        {
            into.AddRange(entries);
            return;
        }

        foreach ((string key, MappingKey user, KeyValue kv) in keys)
        {
            if (EtcdKeys.ParseValue(key, kv.Value.Span, user, out string why) is MappingEntry entry)
            {
                into.Add(entry);
            }
            else
            {
                malformed(key, why);
            }
        }
    }

    /// <summary>Drops (as malformed) every entry whose user key or secure address an earlier one holds already.</summary>
    public static List<MappingEntry> Unique(List<MappingEntry> entries, Action<string, string> malformed)
    {
        var users = new HashSet<MappingKey>(entries.Count);
        var secures = new HashSet<MappingKey>(entries.Count);
        var unique = new List<MappingEntry>(entries.Count);
        foreach (MappingEntry entry in entries)
        {
            if (!users.Add(entry.User) || !secures.Add(entry.Secure))
            {
                malformed($"{entry.User.Tenant}/{entry.User.ToAddress()}", $"duplicate: its user key or secure address {entry.Secure.ToAddress()} is mapped already");
                continue;
            }

            unique.Add(entry);
        }

        return unique;
    }

    private static bool AllMatch(MappingEntry[] entries, List<(string Key, MappingKey User, KeyValue Kv)> keys)
    {
        for (int i = 0; i < entries.Length; i++)
        {
            if (entries[i].User != keys[i].User)
            {
                return false;
            }
        }

        return true;
    }

    private static void Append(ReadOnlySpan<byte> bytes, byte[] document, ref int length)
    {
        bytes.CopyTo(document.AsSpan(length));
        length += bytes.Length;
    }
}
