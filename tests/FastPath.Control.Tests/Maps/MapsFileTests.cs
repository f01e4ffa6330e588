using System.Net;
using System.Text;
using FastPath.Control.Maps;

namespace FastPath.Control.Tests.Maps;

public sealed class MapsFileTests
{
    [Fact]
    public void The_architecture_example_loads()
    {
        IReadOnlyList<MapEntry> entries = Parse("""
            { "mappings": [
                { "tenant": 100, "user": "10.1.0.5", "secure": "198.18.0.5" },
                { "tenant": 0,   "user": "fd00::5",  "secure": "2001:db8::5" } ] }
            """);
        Assert.Equal(
            [new MapEntry(100, IPAddress.Parse("10.1.0.5"), IPAddress.Parse("198.18.0.5")),
             new MapEntry(0, IPAddress.Parse("fd00::5"), IPAddress.Parse("2001:db8::5"))],
            entries);
    }

    [Fact]
    public void The_same_user_address_in_two_tenants_is_two_keys()
    {
        Assert.Equal(2, Parse("""{ "mappings": [ { "tenant": 1, "user": "10.0.0.1", "secure": "198.18.0.1" }, { "tenant": 2, "user": "10.0.0.1", "secure": "198.18.0.2" } ] }""").Count);
    }

    [Theory]
    [InlineData("""{ "mappings": [ { "tenant": 1, "user": "10.0.0.x", "secure": "198.18.0.1" } ] }""", "m.json: mappings[0].user: not an IP address ('10.0.0.x')")]
    [InlineData("""{ "mappings": [ { "tenant": 1, "user": "10.0.0.1", "secure": "1.2" } ] }""", "m.json: mappings[0].secure: not an IP address ('1.2')")]
    [InlineData("""{ "mappings": [ { "tenant": 1, "user": "10.0.0.1", "secure": "2001:db8::1" } ] }""", "m.json: mappings[0]: family mismatch: user 10.0.0.1 is IPv4 but secure 2001:db8::1 is IPv6")]
    [InlineData("""{ "mappings": [ { "tenant": 4095, "user": "10.0.0.1", "secure": "198.18.0.1" } ] }""", "m.json: mappings[0].tenant: tenant 4095 out of range (0 for untagged, 1-4094 for a VLAN ID)")]
    [InlineData("""{ "mappings": [ { "tenant": -1, "user": "10.0.0.1", "secure": "198.18.0.1" } ] }""", "m.json: mappings[0].tenant: tenant -1 out of range (0 for untagged, 1-4094 for a VLAN ID)")]
    [InlineData("""{ "mappings": [ { "tenant": 1.5, "user": "10.0.0.1", "secure": "198.18.0.1" } ] }""", "m.json: mappings[0].tenant: expected an integer")]
    [InlineData("""{ "mappings": [ { "user": "10.0.0.1", "secure": "198.18.0.1" } ] }""", "m.json: mappings[0].tenant: missing")]
    [InlineData("""{ "mappings": [ { "tenant": 1, "secure": "198.18.0.1" } ] }""", "m.json: mappings[0].user: missing")]
    [InlineData("""{ "mappings": [ { "tenant": 1, "user": "10.0.0.1", "secure": "198.18.0.1", "note": 1 } ] }""", "m.json: mappings[0].note: unknown field (expected tenant, user, secure)")]
    [InlineData("""{ "mappings": [ { "tenant": 1, "user": "::ffff:10.0.0.1", "secure": "::ffff:198.18.0.1" } ] }""", "m.json: mappings[0].user: IPv4-mapped IPv6 address '::ffff:10.0.0.1' is ambiguous; write the IPv4 address")]
    [InlineData("""{ "mappings": [ { "tenant": 1, "user": "0.0.0.0", "secure": "198.18.0.1" } ] }""", "m.json: mappings[0].user: unspecified address '0.0.0.0' cannot be mapped")]
    [InlineData("""{ "mappings": [ { "tenant": 1, "user": "10.0.0.1", "secure": "ff02::1" } ] }""", "m.json: mappings[0].secure: multicast or broadcast address 'ff02::1' cannot be mapped")]
    [InlineData("""{ "maps": [] }""", "m.json: maps: unknown field (expected \"mappings\")")]
    [InlineData("""{ }""", "m.json: mappings: missing")]
    [InlineData("""[ ]""", "m.json: $: expected an object with a \"mappings\" array")]
    public void Each_kind_of_bad_entry_is_refused_with_its_path_and_reason(string json, string message)
    {
        var error = Assert.Throws<InputFileException>(() => Parse(json));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void A_duplicate_user_key_names_both_entries()
    {
        var error = Assert.Throws<InputFileException>(() => Parse("""
            { "mappings": [ { "tenant": 7, "user": "10.0.0.1", "secure": "198.18.0.1" },
                            { "tenant": 7, "user": "10.0.0.2", "secure": "198.18.0.2" },
                            { "tenant": 7, "user": "10.0.0.1", "secure": "198.18.0.3" } ] }
            """));
        Assert.Equal("m.json: mappings[2]: duplicate user key (tenant 7, 10.0.0.1): also mappings[0]", error.Message);
    }

    [Fact]
    public void A_duplicate_secure_address_names_both_entries()
    {
        var error = Assert.Throws<InputFileException>(() => Parse("""
            { "mappings": [ { "tenant": 0, "user": "fd00::1", "secure": "2001:db8::9" },
                            { "tenant": 5, "user": "fd00::2", "secure": "2001:db8:0:0::9" } ] }
            """));
        Assert.Equal("m.json: mappings[1]: duplicate secure address 2001:db8::9: also mappings[0]", error.Message);
    }

    [Fact]
    public void Broken_json_names_the_line_and_column()
    {
        var error = Assert.Throws<InputFileException>(() => Parse("{ \"mappings\": [\n  { \"tenant\": 1,, } ] }"));
        Assert.StartsWith("m.json: line 2, column ", error.Message);
        Assert.EndsWith(": invalid JSON", error.Message);
    }

    private static IReadOnlyList<MapEntry> Parse(string json) => MapsFile.Parse(Encoding.UTF8.GetBytes(json), "m.json");
}
