using System.Globalization;
using System.Net;
using System.Text;
using FastPath.Control.Maps;
using FastPath.Dataplane.Mapping;

namespace FastPath.Control.Tests.Maps;

public sealed class MapsFileTests
{
    [Fact]
    public void The_architecture_example_loads()
    {
        MappingEntry[] entries = Parse("""
            { "mappings": [
                { "tenant": 100, "user": "10.1.0.5", "secure": "198.18.0.5" },
                { "tenant": 0,   "user": "fd00::5",  "secure": "2001:db8::5" } ] }
            """);
        Assert.Equal(
            [MappingEntry.Create(100, IPAddress.Parse("10.1.0.5"), IPAddress.Parse("198.18.0.5")),
             MappingEntry.Create(0, IPAddress.Parse("fd00::5"), IPAddress.Parse("2001:db8::5"))],
            entries);
    }

    [Fact]
    public void The_same_user_address_in_two_tenants_is_two_keys()
    {
        Assert.Equal(2, Parse("""{ "mappings": [ { "tenant": 1, "user": "10.0.0.1", "secure": "198.18.0.1" }, { "tenant": 2, "user": "10.0.0.1", "secure": "198.18.0.2" } ] }""").Length);
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

    [Fact]
    public void Escaped_and_commented_json_reads_like_plain_json()
    {
        MappingEntry[] entries = Parse("""
            // maps for tenant 3
            { "mappings": [ { "tenant": 3, "user": "10.0.0.\u0031", "secure": "198.18.0.1", }, ], }
            """);
        Assert.Equal([MappingEntry.Create(3, IPAddress.Parse("10.0.0.1"), IPAddress.Parse("198.18.0.1"))], entries);
    }

    [Theory]
    [InlineData("""{ "mappings": [ { "tenant": 1, "user": 7, "secure": "198.18.0.1" } ] }""", "m.json: mappings[0].user: expected a string")]
    [InlineData("""{ "mappings": [ 5 ] }""", "m.json: mappings[0]: expected an object with tenant, user and secure")]
    [InlineData("""{ "mappings": {} }""", "m.json: mappings: expected an array")]
    [InlineData("""{ "mappings": [ { "tenant": 1, "user": "10.0.0.1" } ] }""", "m.json: mappings[0].secure: missing")]
    public void Wrong_shapes_are_refused_with_their_path(string json, string message)
    {
        var error = Assert.Throws<InputFileException>(() => Parse(json));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void A_value_too_long_for_an_address_is_quoted_in_full()
    {
        string text = new('1', 100);
        var error = Assert.Throws<InputFileException>(() => Parse($$"""{ "mappings": [ { "tenant": 1, "user": "{{text}}", "secure": "198.18.0.1" } ] }"""));
        Assert.Equal($"m.json: mappings[0].user: not an IP address ('{text}')", error.Message);
    }

    [Theory]
    [InlineData("{ \"mappings\": [ { \"tenant\": 1, \"user\": \"10.0.0.1\", \"secure\": \"198.18.0.1\" }")]
    [InlineData("{ \"mappings\": [] } }")]
    [InlineData("{ \"mappings\": [] } [")]
    [InlineData("")]
    public void Truncated_or_trailing_json_is_invalid_json(string json)
    {
        var error = Assert.Throws<InputFileException>(() => Parse(json));
        Assert.StartsWith("m.json: line 1, column ", error.Message);
        Assert.EndsWith(": invalid JSON", error.Message);
    }

    [Fact]
    public void A_million_entries_load_with_their_positions_checked()
    {
        var json = new StringBuilder("{ \"mappings\": [\n");
        for (int i = 0; i < 1_000_000; i++)
        {
            json.Append(i == 0 ? "" : ",\n").Append(CultureInfo.InvariantCulture, $"{{ \"tenant\": {i % 4095}, \"user\": \"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}\", \"secure\": \"198.{18 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}\" }}");
        }

        MappingEntry[] entries = Parse(json.Append("] }").ToString());
        Assert.Equal(1_000_000, entries.Length);
        Assert.Equal(MappingEntry.Create(999_999 % 4095, IPAddress.Parse("10.15.66.63"), IPAddress.Parse("198.33.66.63")), entries[999_999]);

        // A duplicate a million entries apart names both positions.
        json.Length -= 3;
        json.Append(",\n{ \"tenant\": 0, \"user\": \"10.200.0.1\", \"secure\": \"198.18.0.16\" } ] }");
        var error = Assert.Throws<InputFileException>(() => Parse(json.ToString()));
        Assert.Equal("m.json: mappings[1000000]: duplicate secure address 198.18.0.16: also mappings[16]", error.Message);
    }

    private static MappingEntry[] Parse(string json) => MapsFile.Parse(Encoding.UTF8.GetBytes(json), "m.json");
}
