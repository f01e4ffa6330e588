namespace FastPath.Dataplane.Tests;

public sealed class DropReasonTests
{
    [Fact]
    public void Every_reason_has_a_unique_kebab_case_name_that_parses_back()
    {
        Assert.Equal(DropReasons.Count, Enum.GetValues<DropReason>().Length);
        var names = new HashSet<string>();
        foreach (DropReason reason in Enum.GetValues<DropReason>())
        {
            string name = DropReasons.Name(reason);
            Assert.Matches("^[a-z]+(-[a-z]+)*$", name);
            Assert.True(names.Add(name), name);
            Assert.True(DropReasons.TryParse(name, out DropReason parsed));
            Assert.Equal(reason, parsed);
        }
    }

    [Fact]
    public void The_reasons_the_architecture_requires_are_present()
    {
        foreach (string name in new[] { "truncated", "not-ip", "bad-version", "bad-ihl", "bad-length", "bad-checksum", "ttl-exceeded", "no-mapping", "ext-chain-too-long", "unsupported" })
        {
            Assert.True(DropReasons.TryParse(name, out _), name);
        }
    }

    [Fact]
    public void Values_are_dense_from_zero_so_they_index_counter_arrays()
    {
        DropReason[] values = Enum.GetValues<DropReason>();
        for (int i = 0; i < values.Length; i++)
        {
            Assert.Equal(i, (int)values[i]);
        }
    }
}
