using System.CommandLine;
using System.Text.Json;
using FastPath.Control.ControlSocket;

namespace FastPath.Cli.Commands;

/// <summary><c>fastpath map add|del|list|import</c>: edit a running daemon's mappings.</summary>
internal static class MapCommand
{
    public static Command Create()
    {
        var control = new Option<string>("--control") { Description = "Control endpoint of the daemon: unix:PATH or tcp:127.0.0.1:PORT ($FASTPATH_CONTROL)", Recursive = true };
        var etcd = new Option<string>("--etcd") { Description = "Fleet maps: write and read etcd directly, no daemon (ENDPOINT[,ENDPOINT...], e.g. http://127.0.0.1:2379)", Recursive = true };
        var prefix = new Option<string>("--prefix") { Description = "Fleet maps: the key prefix in etcd (default /fastpath/maps/)", Recursive = true };

        var tenant = new Option<int>("--tenant") { Description = "Tenant (802.1Q VLAN ID 1-4094, 0 for untagged)" };
        var user = new Option<string>("--user") { Description = "User-environment address", Required = true };
        var secure = new Option<string>("--secure") { Description = "Secure-environment address", Required = true };
        var add = new Command("add", "Add one mapping (refused with the reason if it conflicts)") { tenant, user, secure };
        add.SetAction(parse =>
        {
            if (parse.GetValue(etcd) is string addEtcd)
            {
                return FleetDirect.Add(addEtcd, parse.GetValue(prefix), parse.GetValue(tenant), parse.GetValue(user)!, parse.GetValue(secure)!);
            }

            using ControlClient client = ControlConnection.Open(parse.GetValue(control));
            using JsonDocument result = Call(client, "map.add", json =>
            {
                json.WriteNumber("tenant", parse.GetValue(tenant));
                json.WriteString("user", parse.GetValue(user));
                json.WriteString("secure", parse.GetValue(secure));
            });
            Console.WriteLine(Written("added", result.RootElement.GetProperty("result")));
            return ExitCodes.Success;
        });

        var delTenant = new Option<int>("--tenant") { Description = "Tenant of the mapping" };
        var delUser = new Option<string>("--user") { Description = "User-environment address of the mapping", Required = true };
        var del = new Command("del", "Delete one mapping") { delTenant, delUser };
        del.SetAction(parse =>
        {
            if (parse.GetValue(etcd) is string delEtcd)
            {
                return FleetDirect.Delete(delEtcd, parse.GetValue(prefix), parse.GetValue(delTenant), parse.GetValue(delUser)!);
            }

            using ControlClient client = ControlConnection.Open(parse.GetValue(control));
            using JsonDocument result = Call(client, "map.del", json =>
            {
                json.WriteNumber("tenant", parse.GetValue(delTenant));
                json.WriteString("user", parse.GetValue(delUser));
            });
            Console.WriteLine(Written("deleted", result.RootElement.GetProperty("result")));
            return ExitCodes.Success;
        });

        var listJson = new Option<bool>("--json") { Description = "One JSON object per line" };
        var limit = new Option<int>("--limit") { Description = "Show at most this many (0: all)", DefaultValueFactory = _ => 1000 };
        var list = new Command("list", "List the mappings") { listJson, limit };
        list.SetAction(parse =>
        {
            if (parse.GetValue(etcd) is string listEtcd)
            {
                return FleetDirect.List(listEtcd, parse.GetValue(prefix), parse.GetValue(listJson), parse.GetValue(limit));
            }

            using ControlClient client = ControlConnection.Open(parse.GetValue(control));
            using JsonDocument result = Call(client, "map.list", json => json.WriteNumber("limit", parse.GetValue(limit)));
            JsonElement body = result.RootElement.GetProperty("result");
            bool asJson = parse.GetValue(listJson);
            int shown = 0;
            foreach (JsonElement entry in body.GetProperty("mappings").EnumerateArray())
            {
                shown++;
                Console.WriteLine(asJson
                    ? entry.GetRawText()
                    : $"{entry.GetProperty("tenant").GetInt32(),5} {entry.GetProperty("user").GetString(),-40} -> {entry.GetProperty("secure").GetString()}");
            }

            long total = body.GetProperty("total").GetInt64();
            if (!asJson && shown < total)
            {
                Console.WriteLine($"({shown} of {total} shown; --limit 0 shows all)");
            }

            return ExitCodes.Success;
        });

        var file = new Argument<FileInfo>("FILE") { Description = "Maps file (JSON) that replaces the whole map atomically; the daemon reads it" };
        var import = new Command("import", "Replace the whole map from a file, atomically") { file };
        import.SetAction(parse =>
        {
            FileInfo path = parse.GetValue(file)!;
            if (!path.Exists)
            {
                throw new FileNotFoundException($"{path.FullName}: no such file");
            }

            if (parse.GetValue(etcd) is string importEtcd)
            {
                return FleetDirect.Import(importEtcd, parse.GetValue(prefix), path.FullName);
            }

            using ControlClient client = ControlConnection.Open(parse.GetValue(control));
            using JsonDocument result = Call(client, "map.import", json => json.WriteString("path", path.FullName));
            JsonElement body = result.RootElement.GetProperty("result");
            Console.WriteLine($"imported {body.GetProperty("mappings").GetInt64()} mappings (published in {body.GetProperty("publish_seconds").GetDouble():0.###} s)");
            return ExitCodes.Success;
        });

        var reload = new Command("reload", "Re-read the daemon's configured maps file (like SIGHUP)");
        reload.SetAction(parse =>
        {
            using ControlClient client = ControlConnection.Open(parse.GetValue(control));
            using JsonDocument result = Call(client, "maps.reload", null);
            Console.WriteLine($"reloaded {result.RootElement.GetProperty("result").GetProperty("mappings").GetInt64()} mappings");
            return ExitCodes.Success;
        });

        return new Command("map", "Manage the mappings of a running daemon") { control, etcd, prefix, add, del, list, import, reload };
    }

    /// <summary>"added; N mappings", with the etcd revision when the daemon's maps are in etcd.</summary>
    private static string Written(string what, JsonElement result) => result.TryGetProperty("revision", out JsonElement revision)
        ? $"{what}; {result.GetProperty("mappings").GetInt64()} mappings; etcd revision {revision.GetInt64()}{(result.GetProperty("applied_here").GetBoolean() ? string.Empty : " (not yet applied by this daemon)")}"
        : $"{what}; {result.GetProperty("mappings").GetInt64()} mappings";

    /// <summary>Calls the daemon; a refusal becomes exit 1 with the daemon's reason, a bad request exit 2.</summary>
    internal static JsonDocument Call(ControlClient client, string verb, Action<Utf8JsonWriter>? args)
    {
        try
        {
            return client.Call(verb, args);
        }
        catch (ControlException error) when (error.Code is ControlProtocol.BadRequest)
        {
            throw new UsageException(error.Message);
        }
    }
}
