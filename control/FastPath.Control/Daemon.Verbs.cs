using System.Diagnostics;
using System.Net;
using System.Text.Json;
using FastPath.Control.ControlSocket;
using FastPath.Control.Maps;
using FastPath.Control.Stats;
using FastPath.Dataplane.Mapping;
using FastPath.Vtpm.Pair;

namespace FastPath.Control;

/// <summary>The control verbs: <c>ping</c>, <c>map.add</c>, <c>map.del</c>, <c>map.list</c>, <c>map.import</c>, <c>maps.reload</c>, <c>stats</c>.</summary>
public sealed partial class Daemon
{
    private const int DefaultListLimit = 1000;

    private async ValueTask<ControlReply> HandleAsync(string verb, JsonElement args, CancellationToken cancellation) => verb switch
    {
        // Fleet maps (Daemon.Fleet.cs): writes go to etcd, and the table follows etcd.
        _ when _fleet is not null && IsFleetVerb(verb) => await FleetAsync(verb, args, cancellation).ConfigureAwait(false),
        "ping" => ControlReply.Ok(json =>
        {
            json.WriteNumber("protocol", ControlProtocol.Version);
            json.WriteNumber("pid", Environment.ProcessId);
        }),
        "map.add" => await WithWriterAsync(() => Add(args)).ConfigureAwait(false),
        "map.del" => await WithWriterAsync(() => Delete(args)).ConfigureAwait(false),
        "map.list" => List(args),
        "map.import" => args.ValueKind == JsonValueKind.Object && args.TryGetProperty("path", out JsonElement path) && path.ValueKind == JsonValueKind.String
            ? await ImportAsync(path.GetString()!).ConfigureAwait(false)
            : ControlReply.Error(ControlProtocol.BadRequest, "map.import needs args.path (the maps file, absolute)"),
        "maps.reload" => _config.MapsFile is null
            ? ControlReply.Error(ControlProtocol.Refused, "no maps file is configured")
            : await ImportAsync(_config.MapsFile).ConfigureAwait(false),
        // The pair's status asks both instances: only the stats verb, which shows it, pays that (not every metrics scrape).
        "stats" => ControlReply.Ok(json => StatsJson.Write(json, Snapshot() with { PairStatusJson = _vtpm?.Pair?.StatusJson() })),
        "vtpm.status" => _vtpm?.Pair is PairController pair ? Raw(pair.StatusJson()) : NoPair(),
        "vtpm.failover" => _vtpm?.Pair is PairController pair
            ? pair.ForceFailover() is string dropped
                ? ControlReply.Ok(json => json.WriteString("dropped", dropped))
                : ControlReply.Error(ControlProtocol.Refused, "only one instance is live; nothing to switch")
            : NoPair(),
        "capture.start" => StartCapture(args),
        "capture.read" => ReadCapture(args),
        "capture.stop" => StopCapture(args),
        _ => ControlReply.Error(ControlProtocol.UnknownVerb, $"unknown verb '{verb}' (ping, map.add, map.del, map.list, map.import, maps.reload, stats, vtpm.status, vtpm.failover, capture.start, capture.read, capture.stop)"),
    };

    private ControlReply NoPair() => ControlReply.Error(ControlProtocol.Refused, _config.Vtpm is null
        ? "this daemon serves no vTPM"
        : "this daemon's vTPM is a single instance (\"mode\": \"single\"); it has no pair");

    /// <summary>A result object given as JSON text (the pair's own status document), member by member.</summary>
    private static ControlReply Raw(string objectJson) => ControlReply.Ok(json =>
    {
        using JsonDocument document = JsonDocument.Parse(objectJson);
        foreach (JsonProperty property in document.RootElement.EnumerateObject())
        {
            property.WriteTo(json);
        }
    });

    private async Task<ControlReply> WithWriterAsync(Func<ControlReply> write)
    {
        await _mapWriter.WaitAsync().ConfigureAwait(false);
        try
        {
            return write();
        }
        finally
        {
            _mapWriter.Release();
        }
    }

    /// <summary>The mapping <c>map.add</c> names (tenant, user, secure), checked as every mapping is; false with the
    /// <c>bad-request</c> reply when it is not one. The table and the fleet's etcd store take the same entry.</summary>
    private static bool TryReadEntry(JsonElement args, out MappingEntry entry, out ControlReply? error)
    {
        entry = default;
        if (!TryReadKey(args, out int tenant, out IPAddress user, out error))
        {
            return false;
        }

        if (!args.TryGetProperty("secure", out JsonElement secureElement) || secureElement.ValueKind != JsonValueKind.String)
        {
            error = ControlReply.Error(ControlProtocol.BadRequest, "args.secure: missing");
            return false;
        }

        if (!MapEntryRules.TryParseAddress(secureElement.GetString(), out IPAddress secure, out string why))
        {
            error = ControlReply.Error(ControlProtocol.BadRequest, "args.secure: " + why);
            return false;
        }

        if (MapEntryRules.CheckFamilies(user, secure) is string family)
        {
            error = ControlReply.Error(ControlProtocol.BadRequest, family);
            return false;
        }

        entry = MappingEntry.Create(tenant, user, secure);
        return true;
    }

    private ControlReply Add(JsonElement args)
    {
        if (!TryReadEntry(args, out MappingEntry entry, out ControlReply? error))
        {
            return error!;
        }

        MappingAddResult result = _table.Add(entry, out MappingEntry existing);
        if (result != MappingAddResult.Added)
        {
            string what = result == MappingAddResult.DuplicateUser
                ? $"(tenant {entry.User.Tenant}, {entry.User.ToAddress()}) is already mapped to {existing.Secure.ToAddress()}"
                : $"secure address {entry.Secure.ToAddress()} is already mapped from (tenant {existing.User.Tenant}, {existing.User.ToAddress()})";
            return ControlReply.Error(ControlProtocol.Refused, "conflict: " + what);
        }

        Interlocked.Increment(ref _mapUpdates);
        return ControlReply.Ok(json => json.WriteNumber("mappings", _table.Count));
    }

    private ControlReply Delete(JsonElement args)
    {
        if (!TryReadKey(args, out int tenant, out IPAddress user, out ControlReply? error))
        {
            return error!;
        }

        if (!_table.Remove(MappingKey.User(tenant, user)))
        {
            return ControlReply.Error(ControlProtocol.NotFound, $"no mapping for (tenant {tenant}, {user})");
        }

        Interlocked.Increment(ref _mapUpdates);
        return ControlReply.Ok(json => json.WriteNumber("mappings", _table.Count));
    }

    private ControlReply List(JsonElement args)
    {
        int limit = DefaultListLimit;
        if (args.ValueKind == JsonValueKind.Object && args.TryGetProperty("limit", out JsonElement limitElement)
            && (limitElement.ValueKind != JsonValueKind.Number || !limitElement.TryGetInt32(out limit) || limit < 0))
        {
            return ControlReply.Error(ControlProtocol.BadRequest, "args.limit: expected a non-negative integer (0: all)");
        }

        List<MappingEntry> entries = _table.ToList();
        int shown = limit == 0 ? entries.Count : Math.Min(limit, entries.Count);
        return ControlReply.Ok(json =>
        {
            json.WriteNumber("total", entries.Count);
            json.WriteStartArray("mappings");
            for (int i = 0; i < shown; i++)
            {
                MappingEntry entry = entries[i];
                json.WriteStartObject();
                json.WriteNumber("tenant", entry.User.Tenant);
                json.WriteString("user", entry.User.ToAddress().ToString());
                json.WriteString("secure", entry.Secure.ToAddress().ToString());
                json.WriteEndObject();
            }

            json.WriteEndArray();
        });
    }

    private async Task<ControlReply> ImportAsync(string path)
    {
        if (!Path.IsPathRooted(path))
        {
            return ControlReply.Error(ControlProtocol.BadRequest, $"the maps file path must be absolute ('{path}')");
        }

        // Parsing a million entries takes a while: it runs on the pool, and only the final swap holds the writer.
        MappingEntry[] entries;
        try
        {
            entries = await Task.Run(() => MapsFile.Load(path)).ConfigureAwait(false);
        }
        catch (Exception error) when (error is InputFileException or IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return ControlReply.Error(ControlProtocol.Refused, error.Message);
        }

        return await WithWriterAsync(() =>
        {
            var time = Stopwatch.StartNew();
            try
            {
                MapsPublisher.Replace(_table, entries);
            }
            catch (InputFileException error)
            {
                return ControlReply.Error(ControlProtocol.Refused, error.Message);
            }

            Interlocked.Increment(ref _mapUpdates);
            double seconds = time.Elapsed.TotalSeconds;
            return ControlReply.Ok(json =>
            {
                json.WriteNumber("mappings", entries.Length);
                json.WriteNumber("publish_seconds", Math.Round(seconds, 4));
            });
        }).ConfigureAwait(false);
    }

    private static bool TryReadKey(JsonElement args, out int tenant, out IPAddress user, out ControlReply? error)
    {
        tenant = 0;
        user = IPAddress.None;
        error = null;
        if (args.ValueKind != JsonValueKind.Object)
        {
            error = ControlReply.Error(ControlProtocol.BadRequest, "args: expected an object with tenant and user");
            return false;
        }

        if (args.TryGetProperty("tenant", out JsonElement tenantElement))
        {
            if (tenantElement.ValueKind != JsonValueKind.Number || !tenantElement.TryGetInt32(out tenant) || MapEntryRules.CheckTenant(tenant) is string)
            {
                error = ControlReply.Error(ControlProtocol.BadRequest, "args.tenant: " + (MapEntryRules.CheckTenant(tenant) ?? "expected an integer"));
                return false;
            }
        }

        if (!args.TryGetProperty("user", out JsonElement userElement) || userElement.ValueKind != JsonValueKind.String)
        {
            error = ControlReply.Error(ControlProtocol.BadRequest, "args.user: missing");
            return false;
        }

        if (!MapEntryRules.TryParseAddress(userElement.GetString(), out user, out string why))
        {
            error = ControlReply.Error(ControlProtocol.BadRequest, "args.user: " + why);
            return false;
        }

        return true;
    }
}
