using System.Globalization;
using FastPath.Control;
using FastPath.Control.Config;
using FastPath.Control.Maps;
using FastPath.Control.Maps.Etcd;
using FastPath.Dataplane.Mapping;
using Grpc.Core;

namespace FastPath.Cli.Commands;

/// <summary>
/// <c>fastpath map add|del|list|import --etcd ENDPOINTS --prefix P</c>: the fleet's maps in etcd written and read
/// directly, with the same transactions a daemon uses (README "Fleet"), so no daemon has to run on the operator's host.
/// </summary>
internal static class FleetDirect
{
    /// <summary>Opens the store named by <c>--etcd</c> and <c>--prefix</c>; usage errors for bad values.</summary>
    public static (EtcdConnection Connection, EtcdMapStore Store) Open(string endpoints, string? prefix)
    {
        string? ca = Environment.GetEnvironmentVariable("FASTPATH_ETCD_CA");
        string? cert = Environment.GetEnvironmentVariable("FASTPATH_ETCD_CERT");
        string? key = Environment.GetEnvironmentVariable("FASTPATH_ETCD_KEY");
        if ((cert is null) != (key is null))
        {
            throw new UsageException("FASTPATH_ETCD_CERT and FASTPATH_ETCD_KEY go together (a client certificate and its key)");
        }

        List<Uri> parsed = EtcdMapsConfig.ParseEndpoints(endpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), out string error)
            ?? throw new UsageException("--etcd: " + error);
        string normalized = EtcdMapsConfig.NormalizePrefix(prefix ?? "/fastpath/maps/", out error) ?? throw new UsageException("--prefix: " + error);
        if ((ca ?? cert) is not null && parsed.Any(e => e.Scheme != "https"))
        {
            throw new UsageException("--etcd: TLS files are given (FASTPATH_ETCD_CA/CERT/KEY) but an endpoint is not https://");
        }

        var connection = new EtcdConnection(new EtcdMapsConfig
        {
            Endpoints = parsed,
            Prefix = normalized,
            CaFile = ca is null ? null : Path.GetFullPath(ca),
            CertFile = cert is null ? null : Path.GetFullPath(cert),
            KeyFile = key is null ? null : Path.GetFullPath(key),
        });
        return (connection, new EtcdMapStore(connection));
    }

    /// <summary>Runs one etcd operation; etcd's failures become one line (exit 1).</summary>
    public static T Run<T>(Func<CancellationToken, Task<T>> operation)
    {
        try
        {
            return operation(CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (RpcException error)
        {
            throw new InvalidOperationException("etcd: " + EtcdConnection.Describe(error));
        }
    }

    /// <summary>The outcome of a write as the CLI prints it; a refusal or a missing mapping is exit 1 with etcd's reason.</summary>
    public static long Done(EtcdWriteResult result) => result.Status switch
    {
        EtcdWriteStatus.Done => result.Revision,
        _ => throw new InvalidOperationException(result.Message),
    };

    /// <summary><c>map add</c> directly.</summary>
    public static int Add(string endpoints, string? prefix, int tenant, string user, string secure)
    {
        MappingEntry entry = Entry(tenant, user, secure);
        (EtcdConnection connection, EtcdMapStore store) = Open(endpoints, prefix);
        using (connection)
        {
            long revision = Done(Run(c => store.AddAsync(entry, c)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"added; etcd revision {revision}"));
            return ExitCodes.Success;
        }
    }

    /// <summary><c>map del</c> directly.</summary>
    public static int Delete(string endpoints, string? prefix, int tenant, string user)
    {
        MappingKey key = Entry(tenant, user, user).User;
        (EtcdConnection connection, EtcdMapStore store) = Open(endpoints, prefix);
        using (connection)
        {
            long revision = Done(Run(c => store.DeleteAsync(key, c)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"deleted; etcd revision {revision}"));
            return ExitCodes.Success;
        }
    }

    /// <summary><c>map import</c> directly: the file is read and checked here, then written as a new generation.</summary>
    public static int Import(string endpoints, string? prefix, string path)
    {
        MappingEntry[] entries = MapsFile.Load(path);
        (EtcdConnection connection, EtcdMapStore store) = Open(endpoints, prefix);
        using (connection)
        {
            var time = System.Diagnostics.Stopwatch.StartNew();
            EtcdWriteResult result = Run(c => store.ImportAsync(entries, c));
            Done(result);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"imported {entries.Length} mappings (published in {time.Elapsed.TotalSeconds:0.###} s; etcd revision {result.Revision})"));
            return ExitCodes.Success;
        }
    }

    /// <summary><c>map list</c> directly: the current generation at one revision.</summary>
    public static int List(string endpoints, string? prefix, bool asJson, int limit)
    {
        (EtcdConnection connection, EtcdMapStore store) = Open(endpoints, prefix);
        using (connection)
        {
            var malformed = new List<string>();
            (List<MappingEntry> entries, long revision) = Run(async c =>
            {
                EtcdGeneration generation = await store.GenerationAsync(0, c).ConfigureAwait(false);
                return (await store.LoadAsync(generation.Id, generation.Revision, (key, why) => malformed.Add($"{key}: {why}"), c).ConfigureAwait(false), generation.Revision);
            });
            int shown = limit == 0 ? entries.Count : Math.Min(limit, entries.Count);
            for (int i = 0; i < shown; i++)
            {
                MappingEntry entry = entries[i];
                Console.WriteLine(asJson
                    ? EtcdKeys.UserValue(entry)
                    : string.Create(CultureInfo.InvariantCulture, $"{entry.User.Tenant,5} {entry.User.ToAddress(),-40} -> {entry.Secure.ToAddress()}"));
            }

            if (!asJson)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"({shown} of {entries.Count} shown at etcd revision {revision}{(shown < entries.Count ? "; --limit 0 shows all" : string.Empty)})"));
            }

            foreach (string line in malformed)
            {
                Console.Error.WriteLine("fastpath: skipped: " + line);
            }

            return ExitCodes.Success;
        }
    }

    private static MappingEntry Entry(int tenant, string user, string secure)
    {
        if (MapEntryRules.CheckTenant(tenant) is string tenantError)
        {
            throw new UsageException("--tenant: " + tenantError);
        }

        if (!MapEntryRules.TryParseAddress(user, out System.Net.IPAddress userAddress, out string why))
        {
            throw new UsageException("--user: " + why);
        }

        if (!MapEntryRules.TryParseAddress(secure, out System.Net.IPAddress secureAddress, out why))
        {
            throw new UsageException("--secure: " + why);
        }

        if (MapEntryRules.CheckFamilies(userAddress, secureAddress) is string family)
        {
            throw new UsageException(family);
        }

        return MappingEntry.Create(tenant, userAddress, secureAddress);
    }
}
