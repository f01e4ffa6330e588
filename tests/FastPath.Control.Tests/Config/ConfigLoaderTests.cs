using System.Text;
using FastPath.Control.Config;
using FastPath.Testing;

namespace FastPath.Control.Tests.Config;

/// <summary>Every class of configuration error is refused with the file and the JSON path of the problem.</summary>
public sealed class ConfigLoaderTests : IDisposable
{
    private const string Ports = """
        "ports": { "gen": { "type": "generator" }, "out": { "type": "sink" } },
        "pairs": [ { "user": "gen", "secure": "out" } ]
        """;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_complete_configuration_loads_with_every_field()
    {
        File.WriteAllText(Path.Combine(_dir.Path, "maps.json"), """{ "mappings": [ { "tenant": 0, "user": "198.18.1.5", "secure": "198.19.1.5" } ] }""");
        DaemonConfig config = Load("""
            {
              "workers": 2, "batch": 32, "idle": "spin", "idle_spin": 64, "maps": "maps.json", "control": "tcp:127.0.0.1:7001", "metrics": "127.0.0.1:9464",
              "ports": {
                "u0": { "type": "afpacket", "interface": "lo", "mac": "02:00:fa:57:01:01", "peer": "02:00:fa:57:01:02", "ring_blocks": 16, "rx_ring": "blocks", "mtu": 9000 },
                "s0": { "type": "pcap", "output": "out.pcapng" }
              },
              "pairs": [ { "user": "u0", "secure": "s0" } ],
              "vtpm": { "mode": "single", "port": 2321, "state": "vtpm" }
            }
            """);
        Assert.Equal([-1, -1], config.Cores);
        Assert.Equal(32, config.BatchSize);
        Assert.Equal(FastPath.Dataplane.Pipeline.WorkerIdle.Spin, config.Idle);
        Assert.Equal(64, config.IdleSpinPolls);
        Assert.Equal(Path.Combine(_dir.Path, "maps.json"), config.MapsFile);
        Assert.Equal("tcp:127.0.0.1:7001", config.Control.Text);
        Assert.Equal(9464, config.Metrics!.Port);
        PortConfig u0 = config.Ports[0];
        Assert.Equal(PortKind.AfPacket, u0.Kind);
        Assert.Equal("lo", u0.Interface);
        Assert.Equal(new byte[] { 2, 0, 0xfa, 0x57, 1, 2 }, u0.Peer);
        Assert.Equal(16, u0.RingBlocks);
        Assert.Equal(9000, u0.Mtu);
        Assert.Equal(FastPath.Dataplane.Ports.AfPacketRxRing.Blocks, u0.RxRing);
        Assert.Null(config.Ports[1].Mtu);
        Assert.Equal(Path.Combine(_dir.Path, "out.pcapng"), config.Ports[1].Output);
        Assert.Equal(("u0", "s0"), (config.Pairs[0].User, config.Pairs[0].Secure));
        Assert.Empty(config.Pairs[0].Guests);
        Assert.Equal(new VtpmConfig(2321, Path.Combine(_dir.Path, "vtpm")), config.Vtpm);
    }

    [Theory]
    [InlineData("""{ "ports": { "u0": { "type": "afpacket", "interface": "lo", "peer": "zz:00:00:00:00:01" } }, "pairs": [ { "user": "u0", "secure": "u0" } ] }""", "ports.u0.peer: not a MAC address ('zz:00:00:00:00:01')")]
    [InlineData("""{ "ports": { "u0": { "type": "afpacket", "interface": "lo" } }, "pairs": [] }""", "ports.u0.peer: missing")]
    [InlineData("""{ "ports": { "u0": { "type": "afpacket", "interface": "lo", "peer": "01:00:5e:00:00:01" } } }""", "ports.u0.peer: multicast MAC")]
    [InlineData("""{ "ports": { "u0": { "type": "afpacket", "interface": "fpnosuch0", "peer": "02:00:00:00:00:01" } } }""", "ports.u0.interface: no such interface 'fpnosuch0'")]
    [InlineData("""{ "ports": { "gen": { "type": "generator" }, "bad name!": { "type": "sink" } } }""", "ports[1]: port name 'bad name!'")]
    [InlineData("""{ "ports": { "gen": { "type": "warp" } } }""", "ports.gen.type: unknown port type 'warp'")]
    [InlineData("""{ "ports": { "g": { "type": "guest", "tenant": 0, "address": "10.0.0.1" } } }""", "ports.g.socket: missing (the Unix socket the guest connects to)")]
    [InlineData("""{ "ports": { "g": { "type": "guest", "socket": "g.sock", "address": "10.0.0.1" } } }""", "ports.g.tenant: missing")]
    [InlineData("""{ "ports": { "g": { "type": "guest", "socket": "g.sock", "tenant": 4095, "address": "10.0.0.1" } } }""", "ports.g.tenant: 4095 is out of range (0-4094)")]
    [InlineData("""{ "ports": { "g": { "type": "guest", "socket": "g.sock", "tenant": 0, "address": "224.0.0.1" } } }""", "ports.g.address: multicast or broadcast address '224.0.0.1' cannot be mapped")]
    [InlineData("""{ "ports": { "g": { "type": "guest", "socket": "g.sock", "tenant": 0, "address": "10.0.0.1", "peer": "02:00:00:00:00:01" } } }""", "ports.g.peer: unknown field for a guest port (expected type, socket, tenant, address, max_frames)")]
    [InlineData("""{ "ports": { "g": { "type": "guest", "socket": "g.sock", "tenant": 0, "address": "10.0.0.1", "max_frames": 8 } } }""", "ports.g.max_frames: 8 is out of range (32-1048576)")]
    [InlineData("""{ "ports": { "g": { "type": "guest", "socket": "g.sock", "tenant": 0, "address": "10.0.0.1" }, "out": { "type": "sink" } }, "pairs": [ { "user": "g", "secure": "out" } ] }""", "pairs[0].user: port 'g' is a guest port: list it in a pair's \"guests\"")]
    [InlineData("""{ "ports": { "a": { "type": "sink" }, "b": { "type": "sink" } }, "pairs": [ { "user": "a", "secure": "b", "guests": [ "a" ] } ] }""", "pairs[0].guests[0]: port 'a' is not a guest port")]
    [InlineData("""{ "ports": { "a": { "type": "sink" }, "b": { "type": "sink" } }, "pairs": [ { "user": "a", "secure": "b", "guests": "g" } ] }""", "pairs[0].guests: expected an array of guest port names")]
    [InlineData("""{ "ports": { "a": { "type": "sink" }, "b": { "type": "sink" }, "g": { "type": "guest", "socket": "g.sock", "tenant": 3, "address": "10.0.0.1" }, "h": { "type": "guest", "socket": "h.sock", "tenant": 3, "address": "10.0.0.1" } }, "pairs": [ { "user": "a", "secure": "b", "guests": [ "g", "h" ] } ] }""", "pairs[0].guests[1]: two guests of one pair have the same tenant and address (3, 10.0.0.1)")]
    [InlineData("""{ "ports": { "a": { "type": "sink" }, "b": { "type": "sink" }, "c": { "type": "sink" }, "d": { "type": "sink" }, "g": { "type": "guest", "socket": "g.sock", "tenant": 0, "address": "10.0.0.1" } }, "pairs": [ { "user": "a", "secure": "b", "guests": [ "g" ] }, { "user": "c", "secure": "d", "guests": [ "g" ] } ] }""", "pairs[1].guests[0]: port 'g' is already used by pairs[0].guests[0]")]
    [InlineData("""{ "ports": { "u0": { "type": "afpacket", "interface": "lo", "peer": "02:00:00:00:00:01", "mtu": 9001 } } }""", "ports.u0.mtu: 9001 is out of range (68-9000)")]
    [InlineData("""{ "ports": { "u0": { "type": "afpacket", "interface": "lo", "peer": "02:00:00:00:00:01", "rx_ring": "v4" } } }""", "ports.u0.rx_ring: unknown ring 'v4' (frames or blocks)")]
    [InlineData("""{ "ports": { "t0": { "type": "tap", "interface": "fptap0", "peer": "02:00:00:00:00:01", "mtu": 67 } } }""", "ports.t0.mtu: 67 is out of range (68-9000)")]
    [InlineData("""{ "ports": { "p": { "type": "pcap", "output": "o.pcap", "mtu": 1500 } } }""", "ports.p.mtu: unknown field for a pcap port")]
    [InlineData("""{ "ports": { "gen": { "type": "generator", "speed": 1 } } }""", "ports.gen.speed: unknown field for a generator port")]
    [InlineData("""{ "ports": { "gen": { "type": "generator", "frame_size": 20 } } }""", "ports.gen.frame_size: 20 is out of range (64-1518)")]
    [InlineData("""{ "ports": { "p": { "type": "pcap" } } }""", "ports.p: a pcap port needs \"input\", \"output\" or both")]
    [InlineData("""{ "ports": { "p": { "type": "pcap", "input": "missing.pcap" } } }""", "ports.p.input: no such file")]
    [InlineData("""{ "colour": 1 }""", "colour: unknown field")]
    [InlineData("""{ "workers": 0, "ports": {} }""", "workers: 0 is out of range (1-64)")]
    [InlineData("""{ "workers": "two" }""", "workers: expected an integer, not a string")]
    [InlineData("""{ "workers": 1, "cores": [0] }""", "cores: give either")]
    [InlineData("""{ "cores": [0, 0] }""", "cores[1]: core 0 is listed twice")]
    [InlineData("""{ "cores": [1023] }""", "cores[0]: core 1023 is not available")]
    [InlineData("""{ "control": "http://x" }""", "control: expected unix:PATH or tcp:ADDRESS:PORT")]
    [InlineData("""{ "control": "tcp:192.0.2.1:7000" }""", "control: 'tcp:192.0.2.1:7000' is not a loopback address")]
    [InlineData("""{ "metrics": "192.0.2.1:9464" }""", "metrics: '192.0.2.1:9464' is not a loopback address")]
    [InlineData("""{ "metrics": "nonsense" }""", "metrics: expected ADDRESS:PORT")]
    [InlineData("""{ "maps": "nothere.json" }""", "maps: no such file")]
    [InlineData("""{ "batch": 1000 }""", "batch: 1000 is out of range (1-256)")]
    [InlineData("""{ "idle": "sleep" }""", "idle: unknown idle policy 'sleep' (poll or spin)")]
    [InlineData("""{ "idle_spin": -1 }""", "idle_spin: -1 is out of range (0-1000000)")]
    [InlineData("""{ }""", "ports: missing")]
    [InlineData("""{ "ports": { "gen": { "type": "generator" }, "out": { "type": "sink" } } }""", "pairs: missing")]
    [InlineData("""{ "ports": { "gen": { "type": "generator" }, "out": { "type": "sink" } }, "pairs": [ { "user": "gen", "secure": "nope" } ] }""", "pairs[0].secure: no port named 'nope'")]
    [InlineData("""{ "ports": { "gen": { "type": "generator" }, "out": { "type": "sink" } }, "pairs": [ { "user": "out", "secure": "gen" } ] }""", "pairs[0].secure: a generator port only sends user traffic")]
    [InlineData("""{ "ports": { "gen": { "type": "generator" }, "out": { "type": "sink" }, "idle": { "type": "sink" } }, "pairs": [ { "user": "gen", "secure": "out" } ] }""", "ports.idle: not used by any pair")]
    [InlineData("""{ "ports": { "a": { "type": "sink" }, "b": { "type": "sink" }, "c": { "type": "sink" } }, "pairs": [ { "user": "a", "secure": "b" }, { "user": "c", "secure": "b" } ] }""", "pairs[1].secure: port 'b' is already used by pairs[0]")]
    public void Each_class_of_error_names_its_json_path(string json, string expected)
    {
        InputFileException error = Assert.Throws<InputFileException>(() => Load(json));
        Assert.StartsWith(Path.Combine(_dir.Path, "fastpath.json") + ": ", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void An_omitted_idle_policy_is_the_sleeping_one_after_the_default_spin()
    {
        DaemonConfig config = Load(Ports.Insert(0, "{ ") + " }");
        Assert.Equal(FastPath.Dataplane.Pipeline.WorkerIdle.Poll, config.Idle);
        Assert.Equal(FastPath.Dataplane.Pipeline.PipelineBuilder.DefaultSpinPolls, config.IdleSpinPolls);
    }

    [Fact]
    public void A_guest_port_joins_its_pair_with_socket_tenant_address_and_quota()
    {
        DaemonConfig config = Load("""
            { "ports": { "u0": { "type": "sink" }, "s0": { "type": "sink" },
                         "g0": { "type": "guest", "socket": "run/g0.sock", "tenant": 100, "address": "fd00::5", "max_frames": 512 },
                         "g1": { "type": "guest", "socket": "/tmp/g1.sock", "tenant": 0, "address": "10.1.0.5" } },
              "pairs": [ { "user": "u0", "secure": "s0", "guests": [ "g0", "g1" ] } ] }
            """);
        Assert.Equal(["g0", "g1"], config.Pairs[0].Guests);
        PortConfig g0 = config.Ports.Single(p => p.Name == "g0");
        Assert.Equal(PortKind.Guest, g0.Kind);
        Assert.Equal(Path.Combine(_dir.Path, "run", "g0.sock"), g0.Socket);
        Assert.Equal(100, g0.Tenant);
        Assert.Equal(System.Net.IPAddress.Parse("fd00::5"), g0.Address);
        Assert.Equal(512, g0.MaxFrames);
        Assert.Equal(FastPath.Dataplane.Pipeline.GuestPlan.DefaultMaxHeldFrames, config.Ports.Single(p => p.Name == "g1").MaxFrames);
        Assert.Empty(Load(Ports.Insert(0, "{ ") + " }").Pairs[0].Guests);
    }

    [Fact]
    public void A_vtpm_pair_section_reads_durability_and_timeout()
    {
        DaemonConfig config = Load("""{ "vtpm": { "mode": "pair", "port": 2321, "state": "v", "durability": "sync", "timeoutMs": 500 }, PORTS }""".Replace("PORTS", Ports, StringComparison.Ordinal));
        Assert.Equal(new VtpmConfig(2321, Path.Combine(_dir.Path, "v"), true, FastPath.Vtpm.Pair.PairDurability.Sync, 500), config.Vtpm);
    }

    [Theory]
    [InlineData("""{ "vtpm": { "mode": "twin", "port": 2321, "state": "s" }, PORTS }""", "vtpm.mode: unknown mode 'twin' (single or pair)")]
    [InlineData("""{ "vtpm": { "mode": "single", "port": 2321, "state": "s", "durability": "sync" }, PORTS }""", "vtpm.durability: applies to \"mode\": \"pair\" only")]
    [InlineData("""{ "vtpm": { "mode": "pair", "port": 2321, "state": "s", "durability": "fast" }, PORTS }""", "vtpm.durability: unknown durability 'fast' (pair or sync)")]
    [InlineData("""{ "vtpm": { "mode": "pair", "port": 65535, "state": "s" }, PORTS }""", "vtpm.port: 65535 is out of range")]
    [InlineData("""{ "vtpm": { "mode": "single", "port": 2321, "socket": "v.sock", "state": "s" }, PORTS }""", "vtpm.port: give \"socket\"")]
    [InlineData("""{ "vtpm": { "mode": "single", "socket": "v.sock", "allowTcpStateCommands": true, "state": "s" }, PORTS }""", "vtpm.allowTcpStateCommands: applies to a TCP \"port\" only")]
    [InlineData("""{ "vtpm": { "mode": "single", "socket": "nowhere/v.sock", "state": "s" }, PORTS }""", "vtpm.socket: the directory of")]
    [InlineData("""{ "vtpm": { "mode": "single", "state": "fastpath.json" }, PORTS }""", "vtpm.state: '")]
    [InlineData("""{ "vtpm": { "mode": "single", "port": 70000, "state": "s" }, PORTS }""", "vtpm.port: 70000 is out of range")]
    public void The_vtpm_section_is_validated(string json, string expected)
    {
        InputFileException error = Assert.Throws<InputFileException>(() => Load(json.Replace("PORTS", Ports, StringComparison.Ordinal)));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void An_invalid_maps_file_is_refused_before_anything_starts()
    {
        File.WriteAllText(Path.Combine(_dir.Path, "maps.json"), """{ "mappings": [ { "tenant": 0, "user": "198.18.1.5", "secure": "x" } ] }""");
        InputFileException error = Assert.Throws<InputFileException>(() => Load("{ \"maps\": \"maps.json\", " + Ports + " }"));
        Assert.Contains("maps.json: mappings[0].secure: not an IP address ('x')", error.Message);
    }

    [Fact]
    public void Invalid_json_names_line_and_column()
    {
        InputFileException error = Assert.Throws<InputFileException>(() => Load("{\n  \"workers\": ,\n}"));
        Assert.Contains("fastpath.json: line 2, column", error.Message);
    }

    [Fact]
    public void A_control_override_replaces_the_file_and_is_checked_too()
    {
        Assert.Equal("unix:/tmp/x.sock", Load("{ " + Ports + " }", "unix:/tmp/x.sock").Control.Text);
        InputFileException error = Assert.Throws<InputFileException>(() => Load("{ " + Ports + " }", "tcp:192.0.2.1:1"));
        Assert.StartsWith("--control: ", error.Message);
    }

    [Theory]
    [InlineData("02:00:fa:57:01:01", true)]
    [InlineData("02-00-FA-57-01-01", true)]
    [InlineData("02:00:fa:57:01", false)]
    [InlineData("02:00:fa:57:01:0g", false)]
    [InlineData("0200fa570101", false)]
    [InlineData("02:00:fa:57:01-01x", false)]
    public void Mac_addresses_parse_strictly(string text, bool valid) =>
        Assert.Equal(valid, ConfigLoader.ParseMac(text) is not null);

    private DaemonConfig Load(string json, string? control = null)
    {
        string path = Path.Combine(_dir.Path, "fastpath.json");
        File.WriteAllText(path, json, Encoding.UTF8);
        // The default control socket is /run/fastpath/control.sock, whose directory a test host may not have.
        return ConfigLoader.Load(path, control ?? (json.Contains("\"control\"", StringComparison.Ordinal) ? null : "unix:" + _dir.File("control.sock")));
    }
}
