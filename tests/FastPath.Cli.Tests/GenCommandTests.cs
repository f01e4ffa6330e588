using FastPath.Testing;

namespace FastPath.Cli.Tests;

/// <summary>
/// <c>fastpath gen</c> on a veth pair: config (root end for gen, peer end in a test namespace) → send (the real
/// executable) → verify (tshark in the namespace: exactly N frames, valid checksums, F flows, the VLAN).
/// </summary>
public sealed class GenCommandTests
{
    private const string GenMac = "02:00:5c:a9:00:0a";

    [Theory]
    [InlineData("198.18.3.1", "198.19.3.1", 0, "64", "50000", 500, 5)]
    [InlineData("2001:db8:3::1", "2001:db8:4::1", 300, "200", "max", 700, 64)]
    public void Gen_sends_exactly_count_frames_with_valid_checksums_over_the_flows(
        string source, string destination, int vlan, string size, string rate, int count, int flows)
    {
        using NetnsLab lab = NetnsLab.CreateOrSkip();
        using var dir = new TempDirectory();
        string ns = lab.AddNamespace("fpgen");
        (string root, string peer) = lab.AddVeth("fpg", null, "fph", ns);
        string file = dir.File("gen.pcap");

        ProcessResult gen;

        // One frame more than gen should send, so the capture runs to its time bound and proves there is no extra.
        using (var capture = TsharkCapture.Start(ns, peer, file, count + 1, TimeSpan.FromSeconds(6), $"ether src {GenMac}"))
        {
            var arguments = new List<string>
            {
                "gen", "--interface", root, "--count", count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--rate", rate, "--size", size, "--flows", flows.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--src", source, "--dst", destination, "--src-mac", GenMac, "--dst-mac", "02:00:5c:a9:00:0b",
            };
            if (vlan != 0)
            {
                arguments.AddRange(["--vlan", vlan.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            }

            gen = ProcessRunner.Run(FastpathProcess.Executable, arguments, TimeSpan.FromSeconds(60));
            capture.Finish(TimeSpan.FromSeconds(30));
        }

        Assert.True(gen.ExitCode == 0, gen.StandardError);
        Assert.Matches($@"^sent {count} packets in [0-9.]+ s: [0-9]+ pps, [0-9.]+ Mbit/s \({size}-byte frames\) on {root}\s*$", gen.StandardOutput);

        bool ipv6 = source.Contains(':', StringComparison.Ordinal);
        IReadOnlyList<string[]> rows = Tshark.Fields(
            file,
            ["frame.len", "vlan.id", ipv6 ? "ipv6.src" : "ip.src", ipv6 ? "ipv6.dst" : "ip.dst", ipv6 ? "ipv6.hlim" : "ip.checksum.status", "udp.srcport", "udp.checksum.status"],
            ["ip.check_checksum:TRUE", "udp.check_checksum:TRUE"]);
        Assert.Equal(count, rows.Count);
        foreach (string[] row in rows)
        {
            Assert.Equal(int.Parse(size, System.Globalization.CultureInfo.InvariantCulture) - 4, int.Parse(row[0], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(vlan == 0 ? string.Empty : vlan.ToString(System.Globalization.CultureInfo.InvariantCulture), row[1]);
            Assert.Equal(source, row[2]);
            Assert.Equal(destination, row[3]);
            Assert.Equal(ipv6 ? "64" : "1", row[4]); // Hop limit, or "1" = IPv4 header checksum good.
            Assert.Equal("1", row[6]); // UDP checksum good.
        }

        // Frame i belongs to flow i mod F: source ports 1024, 1025, ... in turn.
        Assert.Equal(
            Enumerable.Range(0, count).Select(i => (1024 + (i % flows)).ToString(System.Globalization.CultureInfo.InvariantCulture)),
            rows.Select(r => r[5]));
    }

    [Theory]
    [InlineData("--rate", "fast", "--rate fast")]
    [InlineData("--src", "2001:db8::1", "must be both IPv4 or both IPv6")]
    [InlineData("--size", "40", "--size 40")]
    [InlineData("--vlan", "4095", "--vlan 4095")]
    [InlineData("--dst-mac", "02:00:00:00:00", "not a MAC address")]
    public void Bad_options_exit_2_with_one_line_naming_the_option(string option, string value, string message)
    {
        ProcessResult result = FastpathProcess.Run("gen", "--interface", "lo", "--count", "1", option, value);
        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.StandardError.TrimEnd().Split('\n'));
        Assert.Contains(message, result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void A_link_that_is_down_stops_the_run_after_the_stall_bound_with_the_reason()
    {
        using NetnsLab lab = NetnsLab.CreateOrSkip();
        string ns = lab.AddNamespace("fpgen");
        (string root, _) = lab.AddVeth("fpg", null, "fph", ns);
        ProcessRunner.Run("ip", "link", "set", root, "down").EnsureSuccess();

        ProcessResult result = ProcessRunner.Run(FastpathProcess.Executable, ["gen", "--interface", root, "--count", "10"], TimeSpan.FromSeconds(60));

        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"fastpath: interface {root} took no frame for 5 s after 0 (last error ENETDOWN)", result.StandardError.TrimEnd());
    }

    [Fact]
    public void A_missing_interface_exits_1_naming_it()
    {
        ProcessResult result = FastpathProcess.Run("gen", "--interface", "fpnone0", "--count", "1");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("fastpath: if_nametoindex: ENODEV (19): No such device (interface fpnone0)", result.StandardError.TrimEnd());
    }
}
