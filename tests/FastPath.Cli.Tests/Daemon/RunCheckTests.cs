using FastPath.Testing;

namespace FastPath.Cli.Tests.Daemon;

/// <summary>
/// <c>fastpath run --config X --check</c>: the whole configuration is validated (maps file, interfaces, the control
/// socket's place) and nothing opens — no control socket, no pcap output, no worker — exit 0, or 2 with one line.
/// </summary>
public sealed class RunCheckTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_valid_configuration_is_summarised_and_nothing_is_opened()
    {
        string config = WriteConfig(_dir.File("control.sock"));
        File.WriteAllText(_dir.File("maps.json"), """{ "mappings": [ { "tenant": 0, "user": "198.18.1.5", "secure": "198.19.1.5" }, { "tenant": 0, "user": "198.18.1.6", "secure": "198.19.1.6" } ] }""");

        ProcessResult result = FastpathProcess.Run("run", "--config", config, "--check");

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Equal($"fastpath: {config}: ok: 1 worker(s), 2 port(s), 1 pair(s), 2 mapping(s), control unix:{_dir.File("control.sock")}", result.StandardOutput.Trim());
        Assert.Equal(string.Empty, result.StandardError);
        Assert.False(File.Exists(_dir.File("out.pcap")), "the pcap port's output was opened");
        Assert.False(File.Exists(_dir.File("control.sock")), "the control socket was opened");
    }

    [Fact]
    public void A_bad_maps_file_exits_2_naming_the_file_and_entry()
    {
        string config = WriteConfig(_dir.File("control.sock"));
        File.WriteAllText(_dir.File("maps.json"), """{ "mappings": [ { "tenant": 0, "user": "198.18.1.5", "secure": "not-an-address" } ] }""");

        ProcessResult result = FastpathProcess.Run("run", "--config", config, "--check");

        Assert.Equal(2, result.ExitCode);
        string line = result.StandardError.Trim();
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("fastpath: ", line, StringComparison.Ordinal);
        Assert.Contains(_dir.File("maps.json"), line, StringComparison.Ordinal);
        Assert.Contains("not-an-address", line, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.StandardOutput);
    }

    [Fact]
    public void A_control_path_held_by_another_file_exits_2_and_leaves_the_file_alone()
    {
        string precious = _dir.File("precious.txt");
        File.WriteAllText(precious, "keep me");
        string config = WriteConfig(precious);
        File.WriteAllText(_dir.File("maps.json"), """{ "mappings": [] }""");

        ProcessResult result = FastpathProcess.Run("run", "--config", config, "--check");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"fastpath: {config}: control: '{precious}' exists and is not a socket (it would not be replaced)", result.StandardError.Trim());
        Assert.Equal("keep me", File.ReadAllText(precious));
    }

    [Fact]
    public void A_missing_interface_exits_2_with_its_json_path()
    {
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, $$"""
            { "control": "unix:{{_dir.File("c.sock")}}",
              "ports": { "u0": { "type": "afpacket", "interface": "fpnosuch0", "peer": "02:00:00:00:00:01" }, "s0": { "type": "sink" } },
              "pairs": [ { "user": "u0", "secure": "s0" } ] }
            """);

        ProcessResult result = FastpathProcess.Run("run", "--config", config, "--check");

        Assert.Equal(2, result.ExitCode);
        Assert.Equal($"fastpath: {config}: ports.u0.interface: no such interface 'fpnosuch0'", result.StandardError.Trim());
    }

    private string WriteConfig(string control)
    {
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, $$"""
            {
              "workers": 1,
              "maps": "maps.json",
              "control": "unix:{{control}}",
              "ports": {
                "u0": { "type": "generator", "packets": 10 },
                "s0": { "type": "pcap", "output": "out.pcap" }
              },
              "pairs": [ { "user": "u0", "secure": "s0" } ]
            }
            """);
        return config;
    }
}
