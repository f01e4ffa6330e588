using System.Text.Json;
using FastPath.Testing;

namespace FastPath.Cli.Tests;

public sealed class TranslateCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Translating_the_bundled_sample_prints_counts_and_writes_pcapng()
    {
        string root = FastpathProcess.RepositoryRoot;
        string output = _dir.File("secure.pcapng");
        ProcessResult result = FastpathProcess.Run("translate", "--maps", Path.Combine(root, "tools/samples/maps.json"), "--from", "user",
            Path.Combine(root, "tools/samples/user-side.pcapng"), output, "--json");

        Assert.Equal(0, result.ExitCode);
        using var document = JsonDocument.Parse(result.StandardOutput);
        JsonElement verdicts = document.RootElement.GetProperty("verdicts");
        Assert.Equal(7, document.RootElement.GetProperty("packets").GetInt64());
        Assert.Equal(1, verdicts.GetProperty("not-ip").GetInt64());
        Assert.Equal(1, verdicts.GetProperty("no-mapping").GetInt64());
        Assert.Equal(1, verdicts.GetProperty("ttl-exceeded").GetInt64());
        Assert.Equal(4, document.RootElement.GetProperty("written").GetInt64());
        Assert.Equal("pcapng", Tshark.FileType(output));

        IReadOnlyList<string[]> rows = Tshark.Fields(output, ["ip.src", "ipv6.src", "vlan.id"]);
        Assert.Equal(4, rows.Count);
        Assert.All(rows, row => Assert.True(row[0] is "198.18.0.5" || row[1] is "2001:db8::5", string.Join('|', row)));
        Assert.All(rows, row => Assert.Equal(string.Empty, row[2]));
    }

    [Fact]
    public void Text_output_names_the_nonzero_verdicts()
    {
        string root = FastpathProcess.RepositoryRoot;
        ProcessResult result = FastpathProcess.Run("translate", "--maps", Path.Combine(root, "tools/samples/maps.json"), "--from", "user",
            Path.Combine(root, "tools/samples/user-side.pcapng"), _dir.File("o.pcapng"));
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("packets=7 ok=4 not-ip=1 ttl-exceeded=1 no-mapping=1", result.StandardOutput.TrimEnd());
    }

    [Theory]
    [InlineData("""{ "mappings": [ { "tenant": 1, "user": "10.0.0.300", "secure": "198.18.0.1" } ] }""", "mappings[0].user: not an IP address ('10.0.0.300')")]
    [InlineData("""{ "mappings": [ { "tenant": 1, "user": "10.0.0.1", "secure": "2001:db8::1" } ] }""", "mappings[0]: family mismatch")]
    [InlineData("""{ "mappings": [ { "tenant": 4095, "user": "10.0.0.1", "secure": "198.18.0.1" } ] }""", "mappings[0].tenant: tenant 4095 out of range")]
    [InlineData("""{ "mappings": [ { "tenant": 1, "user": "10.0.0.1", "secure": "198.18.0.1" }, { "tenant": 1, "user": "10.0.0.1", "secure": "198.18.0.2" } ] }""", "mappings[1]: duplicate user key")]
    [InlineData("""{ "mappings": [ { "tenant": 1, "user": "10.0.0.1", "secure": "198.18.0.1" }, { "tenant": 2, "user": "10.0.0.2", "secure": "198.18.0.1" } ] }""", "mappings[1]: duplicate secure address")]
    public void A_bad_maps_file_exits_2_with_the_entry_and_the_reason(string maps, string expected)
    {
        string mapsPath = _dir.File("maps.json");
        File.WriteAllText(mapsPath, maps);
        string root = FastpathProcess.RepositoryRoot;
        string output = _dir.File("never.pcapng");
        ProcessResult result = FastpathProcess.Run("translate", "--maps", mapsPath, "--from", "user", Path.Combine(root, "tools/samples/user-side.pcapng"), output);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"fastpath: {mapsPath}: {expected}", result.StandardError.TrimEnd());
        Assert.Single(result.StandardError.TrimEnd().Split('\n'));
        Assert.False(File.Exists(output), "nothing is written when the maps are refused");
    }
}
