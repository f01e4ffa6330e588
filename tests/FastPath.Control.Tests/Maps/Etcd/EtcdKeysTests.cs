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
