using System.CommandLine;

namespace FastPath.Cli.Commands;

/// <summary><c>fastpath map add|del|list|import</c>: edit a running daemon's mappings.</summary>
internal static class MapCommand
{
    public static Command Create()
    {
        var control = new Option<string>("--control") { Description = "Control endpoint of the daemon: unix:PATH or tcp:127.0.0.1:PORT", Recursive = true };

        var tenant = new Option<int>("--tenant") { Description = "Tenant (802.1Q VLAN ID 1-4094, 0 for untagged)" };
        var user = new Option<string>("--user") { Description = "User-environment address", Required = true };
        var secure = new Option<string>("--secure") { Description = "Secure-environment address", Required = true };
        var add = new Command("add", "Add one mapping") { tenant, user, secure };
        add.SetAction(Pending.For("map add", 10));

        var delTenant = new Option<int>("--tenant") { Description = "Tenant of the mapping" };
        var delUser = new Option<string>("--user") { Description = "User-environment address of the mapping", Required = true };
        var del = new Command("del", "Delete one mapping") { delTenant, delUser };
        del.SetAction(Pending.For("map del", 10));

        var list = new Command("list", "List the mappings") { new Option<bool>("--json") { Description = "One JSON object per line" } };
        list.SetAction(Pending.For("map list", 10));

        var file = new Argument<FileInfo>("FILE") { Description = "Maps file (JSON) that replaces the whole map atomically" };
        var import = new Command("import", "Replace the whole map from a file") { file };
        import.SetAction(Pending.For("map import", 10));

        return new Command("map", Pending.Describe("Manage the mappings of a running daemon", 10)) { control, add, del, list, import };
    }
}
