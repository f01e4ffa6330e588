using System.CommandLine;
using System.Globalization;
using System.Net;
using FastPath.Dataplane.Ports;

namespace FastPath.Cli.Commands;

/// <summary>
/// <c>fastpath gen --interface IF --count N --rate PPS|max --size B --flows F --src A --dst A [--vlan V]
/// [--src-mac M] [--dst-mac M] [--dport P]</c>: UDP traffic on an interface through AF_PACKET.
/// </summary>
internal static class GenCommand
{
    public static Command Create()
    {
        var iface = new Option<string>("--interface") { Description = "Interface to send on (AF_PACKET, needs CAP_NET_RAW)", Required = true };
        var count = new Option<long>("--count") { Description = "Packets to send (every run is bounded by it)", DefaultValueFactory = _ => 1_000_000 };
        var rate = new Option<string>("--rate") { Description = "Packets per second, or 'max'", DefaultValueFactory = _ => "max" };
        var size = new Option<int>("--size") { Description = "Frame size in bytes including the 4-byte FCS (64 = minimum Ethernet frame)", DefaultValueFactory = _ => 64 };
        var flows = new Option<int>("--flows") { Description = "Distinct flows: source ports from 1024 up, then the next source address", DefaultValueFactory = _ => 1 };
        var src = new Option<string>("--src") { Description = "First source address (IPv4 or IPv6)", DefaultValueFactory = _ => "198.18.0.1" };
        var dst = new Option<string>("--dst") { Description = "Destination address (same family as --src)", DefaultValueFactory = _ => "198.19.0.1" };
        var dport = new Option<int>("--dport") { Description = "UDP destination port", DefaultValueFactory = _ => 9 };
        var vlan = new Option<int>("--vlan") { Description = "802.1Q VLAN ID 1-4094 (the tenant); untagged when omitted" };
        var srcMac = new Option<string?>("--src-mac") { Description = "Source MAC (default: the interface's)" };
        var dstMac = new Option<string?>("--dst-mac") { Description = "Destination MAC (default: ff:ff:ff:ff:ff:ff)" };

        var command = new Command("gen", "Generate UDP traffic on an interface (AF_PACKET); prints packets sent and packets per second")
        {
            iface, count, rate, size, flows, src, dst, dport, vlan, srcMac, dstMac,
        };
        command.SetAction(parse =>
        {
            var options = new TrafficGeneratorOptions
            {
                InterfaceName = parse.GetValue(iface)!,
                Count = parse.GetValue(count),
                Rate = ParseRate(parse.GetValue(rate)!),
                FrameSize = parse.GetValue(size),
                Flows = parse.GetValue(flows),
                Source = ParseAddress("--src", parse.GetValue(src)!),
                Destination = ParseAddress("--dst", parse.GetValue(dst)!),
                DestinationPort = parse.GetValue(dport) is int port and >= 1 and <= 65535
                    ? (ushort)port
                    : throw new UsageException($"--dport {parse.GetValue(dport)}: must be 1 to 65535"),
                Vlan = parse.GetValue(vlan),
                SourceMac = ParseMac("--src-mac", parse.GetValue(srcMac)),
                DestinationMac = ParseMac("--dst-mac", parse.GetValue(dstMac)),
            };
            TrafficGeneratorResult result;
            try
            {
                result = TrafficGenerator.Run(options);
            }
            catch (ArgumentException exception)
            {
                throw new UsageException(exception.Message);
            }

            Console.Out.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"sent {result.Sent} packets in {result.Elapsed.TotalSeconds:0.000} s: {result.PacketsPerSecond:0} pps, {result.BitsPerSecond / 1e6:0.0} Mbit/s ({result.FrameSize}-byte frames) on {options.InterfaceName}"));
            if (result.TxErrors > 0)
            {
                Console.Error.WriteLine($"fastpath: {result.TxErrors} send calls on {options.InterfaceName} failed (frames were retried)");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static long ParseRate(string text)
    {
        if (text.Equals("max", StringComparison.OrdinalIgnoreCase))
        {
            return 0;
        }

        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long rate) && rate > 0)
        {
            return rate;
        }

        throw new UsageException($"--rate {text}: must be a positive number of packets per second, or 'max'");
    }

    private static IPAddress ParseAddress(string option, string text) =>
        FastPath.Control.Config.IpAddressText.TryParse(text, out IPAddress address)
            ? address
            : throw new UsageException($"{option} {text}: not an IPv4 (canonical dotted decimal) or IPv6 address");

    private static byte[]? ParseMac(string option, string? text)
    {
        if (text is null)
        {
            return null;
        }

        string[] parts = text.Split(':');
        var mac = new byte[6];
        if (parts.Length != 6)
        {
            throw new UsageException($"{option} {text}: not a MAC address (six hex bytes separated by ':')");
        }

        for (int i = 0; i < 6; i++)
        {
            if (parts[i].Length is < 1 or > 2 || !byte.TryParse(parts[i], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out mac[i]))
            {
                throw new UsageException($"{option} {text}: not a MAC address (six hex bytes separated by ':')");
            }
        }

        return mac;
    }
}
