using System.Text.Json;

namespace FastPath.Control.Config;

/// <summary>
/// <c>"maps": {"etcd": {"endpoints": [...], "prefix": "/fastpath/maps/", "ca": F, "cert": F, "key": F, "dial_timeout_ms": N}}</c>:
/// the etcd cluster a fleet's mappings live in (README "Fleet").
/// </summary>
/// <remarks>Immutable.</remarks>
public sealed record EtcdMapsConfig
{
    /// <summary>Longest prefix accepted: keys stay short enough to read in <c>etcdctl get --prefix</c>.</summary>
    public const int MaxPrefixLength = 200;

    /// <summary>At most this many endpoints (a cluster has 3, 5 or 7 members).</summary>
    public const int MaxEndpoints = 16;

    private static readonly string[] s_fields = ["endpoints", "prefix", "ca", "cert", "key", "dial_timeout_ms"];
    private static readonly string[] s_mapsFields = ["etcd"];

    /// <summary>Client URLs (<c>http://H:P</c> or <c>https://H:P</c>), tried in order.</summary>
    public required IReadOnlyList<Uri> Endpoints { get; init; }

    /// <summary>Key prefix; always ends in <c>/</c>.</summary>
    public required string Prefix { get; init; }

    /// <summary>PEM CA that signs the members' certificates (https endpoints), or null for the system's.</summary>
    public string? CaFile { get; init; }

    /// <summary>PEM client certificate and key, or null.</summary>
    public string? CertFile { get; init; }

    /// <summary>PEM client key (with <see cref="CertFile"/>), or null.</summary>
    public string? KeyFile { get; init; }

    /// <summary>How long one connection attempt to a member may take.</summary>
    public TimeSpan DialTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Checks and normalizes a prefix (<c>/fastpath/maps</c> → <c>/fastpath/maps/</c>); null and why when it cannot be one.</summary>
    public static string? NormalizePrefix(string? prefix, out string error)
    {
        error = string.Empty;
        if (string.IsNullOrEmpty(prefix) || prefix.Length > MaxPrefixLength || !prefix.StartsWith('/')
            || prefix.Any(c => c <= ' ' || c > '~'))
        {
            error = $"expected a key prefix starting with '/', printable ASCII, at most {MaxPrefixLength} characters ('{prefix}')";
            return null;
        }

        return prefix.EndsWith('/') ? prefix : prefix + "/";
    }

    /// <summary>Parses a comma-separated endpoint list (the CLI's <c>--etcd</c>); null and why when one is not a client URL.</summary>
    public static List<Uri>? ParseEndpoints(IEnumerable<string> texts, out string error)
    {
        error = string.Empty;
        var endpoints = new List<Uri>();
        foreach (string text in texts)
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/"
                || uri.Port <= 0 || !string.IsNullOrEmpty(uri.UserInfo))
            {
                error = $"expected http://HOST:PORT or https://HOST:PORT ('{text}')";
                return null;
            }

            endpoints.Add(uri);
        }

        if (endpoints.Count is 0 or > MaxEndpoints)
        {
            error = $"expected 1-{MaxEndpoints} endpoints, got {endpoints.Count}";
            return null;
        }

        return endpoints;
    }

    /// <summary>Reads the <c>maps</c> object of <paramref name="source"/>; relative file names are relative to <paramref name="folder"/>.</summary>
    /// <exception cref="InputFileException">Anything is wrong; the message names the JSON path.</exception>
    internal static EtcdMapsConfig Read(JsonElement maps, string source, string folder)
    {
        if (JsonFields.FirstUnknown(maps, s_mapsFields) is { } unknownMaps)
        {
            throw Error(source, "maps." + unknownMaps, JsonFields.Reason(s_mapsFields) + "; a maps file is given as a string");
        }

        if (!maps.TryGetProperty("etcd", out JsonElement etcd) || etcd.ValueKind != JsonValueKind.Object)
        {
            throw Error(source, "maps.etcd", "expected an object with endpoints and prefix");
        }

        if (JsonFields.FirstUnknown(etcd, s_fields) is { } unknown)
        {
            throw Error(source, "maps.etcd." + unknown, JsonFields.Reason(s_fields));
        }

        if (!etcd.TryGetProperty("endpoints", out JsonElement endpointsElement) || endpointsElement.ValueKind != JsonValueKind.Array
            || endpointsElement.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            throw Error(source, "maps.etcd.endpoints", "expected an array of client URLs (\"http://127.0.0.1:2379\")");
        }

        List<Uri> endpoints = ParseEndpoints(endpointsElement.EnumerateArray().Select(e => e.GetString()!), out string endpointError)
            ?? throw Error(source, "maps.etcd.endpoints", endpointError);

        string? prefixText = etcd.TryGetProperty("prefix", out JsonElement prefixElement) && prefixElement.ValueKind == JsonValueKind.String
            ? prefixElement.GetString()
            : throw Error(source, "maps.etcd.prefix", "missing (a key prefix such as \"/fastpath/maps/\")");
        string prefix = NormalizePrefix(prefixText, out string prefixError) ?? throw Error(source, "maps.etcd.prefix", prefixError);

        string? ca = File(etcd, "ca", source, folder);
        string? cert = File(etcd, "cert", source, folder);
        string? key = File(etcd, "key", source, folder);
        if ((cert is null) != (key is null))
        {
            throw Error(source, "maps.etcd." + (cert is null ? "cert" : "key"), "a client certificate needs both cert and key");
        }

        if ((ca ?? cert) is not null && endpoints.Any(e => e.Scheme != "https"))
        {
            throw Error(source, "maps.etcd.endpoints", "TLS files are given but an endpoint is not https://");
        }

        TimeSpan dial = TimeSpan.FromSeconds(2);
        if (etcd.TryGetProperty("dial_timeout_ms", out JsonElement dialElement))
        {
            if (!dialElement.TryGetInt32(out int ms) || ms is < 10 or > 60_000)
            {
                throw Error(source, "maps.etcd.dial_timeout_ms", "expected milliseconds, 10-60000");
            }

            dial = TimeSpan.FromMilliseconds(ms);
        }

        return new EtcdMapsConfig { Endpoints = endpoints, Prefix = prefix, CaFile = ca, CertFile = cert, KeyFile = key, DialTimeout = dial };
    }

    private static string? File(JsonElement etcd, string name, string source, string folder)
    {
        if (!etcd.TryGetProperty(name, out JsonElement element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(element.GetString()))
        {
            throw Error(source, "maps.etcd." + name, "expected a PEM file name");
        }

        return Path.GetFullPath(element.GetString()!, folder);
    }

    private static InputFileException Error(string source, string path, string reason) => new($"{source}: {path}: {reason}");
}
