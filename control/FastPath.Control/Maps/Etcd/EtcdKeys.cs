using System.Globalization;
using System.Net;
using System.Text;
using FastPath.Dataplane.Mapping;
using Google.Protobuf;

namespace FastPath.Control.Maps.Etcd;

/// <summary>
/// The key layout under a prefix P (README "Fleet"):
/// <c>P/gen</c> → the current generation id;
/// <c>P/g/GEN/u/TENANT/USER</c> → <c>{"tenant":T,"user":"U","secure":"S"}</c> (a maps-file entry);
/// <c>P/g/GEN/s/SECURE</c> → <c>TENANT/USER</c> (the secure address's owner: what makes a conflict visible in one compare);
/// <c>P/g/GEN/u/~retired</c> → the generation that replaced GEN (written in the switch transaction, inside the range
/// the daemons watch, so a daemon sees the switch before the old generation's deletion).
/// </summary>
/// <remarks>Thread-safe: stateless.</remarks>
public static class EtcdKeys
{
    /// <summary>The generation a prefix has before its first import (no <c>gen</c> key yet).</summary>
    public const string InitialGeneration = "0";

    /// <summary>The marker's name under <c>u/</c>; <c>~</c> sorts after every tenant number.</summary>
    public const string RetiredName = "~retired";

    /// <summary>Longest value accepted for a user key (an entry is under 120 bytes).</summary>
    public const int MaxValueBytes = 1024;

    /// <summary><c>P/gen</c>.</summary>
    public static string GenerationKey(string prefix) => prefix + "gen";

    /// <summary><c>P/g/GEN/</c>: everything of one generation.</summary>
    public static string GenerationPrefix(string prefix, string generation) => $"{prefix}g/{generation}/";

    /// <summary><c>P/g/GEN/u/</c>: the range the daemons load and watch.</summary>
    public static string UserPrefix(string prefix, string generation) => GenerationPrefix(prefix, generation) + "u/";

    /// <summary><c>P/g/GEN/u/~retired</c>.</summary>
    public static string RetiredKey(string prefix, string generation) => UserPrefix(prefix, generation) + RetiredName;

    /// <summary><c>P/g/GEN/u/TENANT/USER</c>.</summary>
    public static string UserKey(string prefix, string generation, in MappingKey user) =>
        string.Create(CultureInfo.InvariantCulture, $"{UserPrefix(prefix, generation)}{user.Tenant}/{user.ToAddress()}");

    /// <summary><c>P/g/GEN/s/SECURE</c>.</summary>
    public static string SecureKey(string prefix, string generation, in MappingKey secure) =>
        $"{GenerationPrefix(prefix, generation)}s/{secure.ToAddress()}";

    /// <summary>The user key's value: one maps-file entry.</summary>
    public static string UserValue(in MappingEntry entry) =>
        string.Create(CultureInfo.InvariantCulture, $"{{\"tenant\":{entry.User.Tenant},\"user\":\"{entry.User.ToAddress()}\",\"secure\":\"{entry.Secure.ToAddress()}\"}}");

    /// <summary>The secure key's value: <c>TENANT/USER</c>.</summary>
    public static string SecureValue(in MappingEntry entry) => string.Create(CultureInfo.InvariantCulture, $"{entry.User.Tenant}/{entry.User.ToAddress()}");

    /// <summary>
    /// The four byte strings an import writes for <paramref name="entry"/>: user key, its value, secure key, its value,
    /// under <paramref name="userHead"/> (<c>P/g/GEN/u/</c>) and <paramref name="secureHead"/> (<c>P/g/GEN/s/</c>), in
    /// UTF-8 straight from the entry: the same bytes as <see cref="UserKey"/>, <see cref="UserValue"/>,
    /// <see cref="SecureKey"/> and <see cref="SecureValue"/> (a test holds them equal), without the five strings and
    /// their re-encoding per entry that an import of 1M entries would otherwise make.
    /// </summary>
    public static (ByteString UserKey, ByteString UserValue, ByteString SecureKey, ByteString SecureValue) ImportPuts(
        ReadOnlySpan<byte> userHead, ReadOnlySpan<byte> secureHead, in MappingEntry entry)
    {
        // "65535/" + the longest IPv6 text (45 bytes); the value adds 36 bytes of JSON around the two addresses.
        Span<byte> name = stackalloc byte[64];
        Span<byte> secure = stackalloc byte[48];
        entry.User.Tenant.TryFormat(name, out int tenantLength, default, CultureInfo.InvariantCulture);
        name[tenantLength] = (byte)'/';
        entry.User.ToAddress().TryFormat(name[(tenantLength + 1)..], out int userLength);
        int nameLength = tenantLength + 1 + userLength;
        entry.Secure.ToAddress().TryFormat(secure, out int secureLength);
        ReadOnlySpan<byte> tenantText = name[..tenantLength];
        ReadOnlySpan<byte> userText = name.Slice(tenantLength + 1, userLength);
        ReadOnlySpan<byte> secureText = secure[..secureLength];

        Span<byte> value = stackalloc byte[160];
        int length = 0;
        Append(value, ref length, "{\"tenant\":"u8);
        Append(value, ref length, tenantText);
        Append(value, ref length, ",\"user\":\""u8);
        Append(value, ref length, userText);
        Append(value, ref length, "\",\"secure\":\""u8);
        Append(value, ref length, secureText);
        Append(value, ref length, "\"}"u8);
        return (Concat(userHead, name[..nameLength]), ByteString.CopyFrom(value[..length]), Concat(secureHead, secureText), ByteString.CopyFrom(name[..nameLength]));
    }

    private static ByteString Concat(ReadOnlySpan<byte> head, ReadOnlySpan<byte> tail)
    {
        byte[] bytes = new byte[head.Length + tail.Length];
        head.CopyTo(bytes);
        tail.CopyTo(bytes.AsSpan(head.Length));
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }

    private static void Append(Span<byte> to, ref int length, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(to[length..]);
        length += bytes.Length;
    }

    /// <summary>A new generation id: sortable time, then randomness (two importers never pick the same).</summary>
    public static string NewGeneration() =>
        string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:yyyyMMddTHHmmss}-{Random.Shared.Next():x8}");

    /// <summary>The end of the range of keys starting with <paramref name="prefix"/> (etcd's prefix convention).</summary>
    public static ByteString RangeEnd(string prefix)
    {
        byte[] end = Encoding.UTF8.GetBytes(prefix);
        end[^1]++;
        return ByteString.CopyFrom(end);
    }

    /// <summary>UTF-8 bytes of a key or value.</summary>
    public static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    /// <summary>
    /// Reads the user key after <c>u/</c> (<c>TENANT/USER</c>) with the same rules as a maps file; false and why when it is not one.
    /// </summary>
    public static bool TryParseUserName(string name, out MappingKey user, out string error)
    {
        user = default;
        int slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || !int.TryParse(name.AsSpan(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out int tenant)
            || MapEntryRules.CheckTenant(tenant) is not null)
        {
            error = "not TENANT/USER";
            return false;
        }

        if (!MapEntryRules.TryParseAddress(name.AsSpan(slash + 1), out IPAddress address, out error))
        {
            return false;
        }

        user = MappingKey.User(tenant, address);
        return true;
    }

    /// <summary>
    /// Parses a user key's value with the maps-file parser (its rules, whatever they become, apply to etcd too) and
    /// checks it belongs to the key it was found under; null and why when it does not.
    /// </summary>
    public static MappingEntry? ParseValue(string key, ReadOnlySpan<byte> value, in MappingKey expectedUser, out string error)
    {
        error = string.Empty;
        if (value.Length > MaxValueBytes)
        {
            error = $"value of {value.Length} bytes (limit {MaxValueBytes})";
            return null;
        }

        byte[] document = new byte[value.Length + 16];
        int length = 0;
        "{\"mappings\":["u8.CopyTo(document);
        length += 13;
        value.CopyTo(document.AsSpan(length));
        length += value.Length;
        "]}"u8.CopyTo(document.AsSpan(length));
        length += 2;
        try
        {
            MappingEntry[] entries = MapsFile.Parse(document.AsSpan(0, length), key);
            if (entries.Length != 1)
            {
                error = "expected one entry object";
                return null;
            }

            if (entries[0].User != expectedUser)
            {
                error = $"value names (tenant {entries[0].User.Tenant}, {entries[0].User.ToAddress()}), not its key's";
                return null;
            }

            return entries[0];
        }
        catch (InputFileException parse)
        {
            error = parse.Message;
            return null;
        }
    }
}
