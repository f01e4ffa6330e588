using System.CommandLine;

namespace FastPath.Cli.Commands;

/// <summary><c>fastpath gen --interface IF --count N --rate PPS|max --size B --flows F --src A --dst A</c>.</summary>
internal static class GenCommand
{
    public static Command Create()
    {
        var iface = new Option<string>("--interface") { Description = "Interface to send on (AF_PACKET)", Required = true };
        var count = new Option<long>("--count") { Description = "Packets to send" };
        var rate = new Option<string>("--rate") { Description = "Packets per second, or 'max'" };
        var size = new Option<int>("--size") { Description = "Frame size in bytes" };
        var flows = new Option<int>("--flows") { Description = "Distinct flows" };
        var src = new Option<string>("--src") { Description = "First source address" };
        var dst = new Option<string>("--dst") { Description = "Destination address" };

        var command = new Command("gen", Pending.Describe("Generate traffic on an interface (AF_PACKET)", 6))
        {
            iface, count, rate, size, flows, src, dst,
        };
        command.SetAction(Pending.For("gen", 6));
        return command;
    }
}
