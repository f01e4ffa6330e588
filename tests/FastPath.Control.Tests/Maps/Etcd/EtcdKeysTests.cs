using System.Net;
using System.Text;
using FastPath.Control.Maps.Etcd;
using FastPath.Dataplane.Mapping;

namespace FastPath.Control.Tests.Maps.Etcd;

/// <summary>The etcd key layout and its values: written and read back, and what is malformed says why.</summary>
public sealed class EtcdKeysTests
{
    private static readonly MappingEntry s_entry = MappingEntry.Create(7, IPAddress.Parse("198.18.1.5"), IPAddress.Parse("198.19.1.5"));

    [Fact]
    public void Keys_and_values_read_as_the_readme_shows_and_parse_back()
    {
        Assert.Equal("/p/gen", EtcdKeys.GenerationKey("/p/"));
        Assert.Equal("/p/g/0/u/7/198.18.1.5", EtcdKeys.UserKey("/p/", "0", s_entry.User));
        Assert.Equal("/p/g/0/s/198.19.1.5", EtcdKeys.SecureKey("/p/", "0", s_entry.Secure));
        Assert.Equal("/p/g/0/u/~retired", EtcdKeys.RetiredKey("/p/", "0"));
        Assert.Equal("""{"tenant":7,"user":"198.18.1.5","secure":"198.19.1.5"}""", EtcdKeys.UserValue(s_entry));
        Assert.Equal("7/198.18.1.5", EtcdKeys.SecureValue(s_entry));
        Assert.True(EtcdKeys.TryParseUserName("7/198.18.1.5", out MappingKey user, out _));
        Assert.Equal(s_entry.User, user);
        Assert.Equal(s_entry, EtcdKeys.ParseValue("k", Encoding.UTF8.GetBytes(EtcdKeys.UserValue(s_entry)), s_entry.User, out _));
        Assert.Equal("/p/g/0/u0", EtcdKeys.RangeEnd("/p/g/0/u/").ToStringUtf8());
    }

    [Theory]
    [InlineData(7, "198.18.1.5", "198.19.1.5")]
    [InlineData(0, "0.0.0.0", "255.255.255.255")]
    [InlineData(4094, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "fd00:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]
    [InlineData(12, "2001:db8::1", "2001:db8:1::1")]
    public void An_imports_bytes_are_the_layouts_strings(int tenant, string user, string secure)
    {
        MappingEntry entry = MappingEntry.Create(tenant, IPAddress.Parse(user), IPAddress.Parse(secure));
        (var userKey, var userValue, var secureKey, var secureValue) = EtcdKeys.ImportPuts("/p/g/G/u/"u8, "/p/g/G/s/"u8, entry);
        Assert.Equal(EtcdKeys.UserKey("/p/", "G", entry.User), userKey.ToStringUtf8());
        Assert.Equal(EtcdKeys.UserValue(entry), userValue.ToStringUtf8());
        Assert.Equal(EtcdKeys.SecureKey("/p/", "G", entry.Secure), secureKey.ToStringUtf8());
        Assert.Equal(EtcdKeys.SecureValue(entry), secureValue.ToStringUtf8());
    }

    [Theory]
    [InlineData("""{"tenant":7,"user":"198.18.1.5","secure":"nope"}""", "not an IP address")]
    [InlineData("""{"tenant":7,"user":"198.18.1.6","secure":"198.19.1.5"}""", "not its key's")]
    [InlineData("""{"tenant":7,"user":"198.18.1.5","secure":"198.19.1.5"},{"tenant":8,"user":"198.18.1.5","secure":"198.19.1.6"}""", "expected one entry object")]
    [InlineData("""{"tenant":7,"user":"198.18.1.5","secure":"198.19.1.5"}]}""", "invalid JSON")]
    [InlineData("garbage", "invalid JSON")]
    public void A_malformed_value_is_refused_with_the_reason(string value, string expected)
    {
        Assert.Null(EtcdKeys.ParseValue("/p/g/0/u/7/198.18.1.5", Encoding.UTF8.GetBytes(value), s_entry.User, out string why));
        Assert.Contains(expected, why);
    }

    [Theory]
    [InlineData("x/198.18.1.5")]
    [InlineData("4095/198.18.1.5")]
    [InlineData("7/1.2")]
    [InlineData("7")]
    public void A_malformed_key_name_is_refused(string name) => Assert.False(EtcdKeys.TryParseUserName(name, out _, out _));
}
