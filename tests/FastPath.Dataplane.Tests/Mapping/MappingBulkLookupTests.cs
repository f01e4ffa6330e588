using FastPath.Dataplane.Mapping;

namespace FastPath.Dataplane.Tests.Mapping;

public sealed class MappingBulkLookupTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(256)]
    [InlineData(1000)]
    public void Bulk_lookups_answer_exactly_what_single_lookups_answer_in_both_directions(int batch)
    {
        // A table filled to its 7/8 load limit, then thinned by removes, so probes run past full home buckets and tombstones.
        using var table = new MappingTable(20_000);
        int capacity = table.Capacity;
        var random = new Random(batch);
        for (int i = 0; i < capacity; i++)
        {
            table.Add(MappingTestKeys.EntryFor(i));
        }

        for (int i = 0; i < capacity / 3; i++)
        {
            table.Remove(MappingTestKeys.EntryFor(random.Next(capacity)).User);
        }

        Assert.True(table.GetStats().Tombstones > 0);
        var users = new MappingKey[batch];
        var secures = new MappingKey[batch];
        for (int round = 0; round < 20; round++)
        {
            for (int i = 0; i < batch; i++)
            {
                // About a third misses, including keys whose other fields match a present key.
                int n = random.Next(capacity * 3 / 2);
                MappingEntry entry = MappingTestKeys.EntryFor(n);
                users[i] = random.Next(8) == 0 ? MappingKey.FromBytes((ushort)(entry.User.Tenant + 1), entry.User.ToAddress().GetAddressBytes()) : entry.User;
                secures[i] = entry.Secure;
            }

            AssertBulkEqualsSingle(table, users, user: true);
            AssertBulkEqualsSingle(table, secures, user: false);
        }
    }

    [Fact]
    public void Bulk_lookups_refuse_a_results_span_shorter_than_the_keys()
    {
        using var table = new MappingTable();
        Assert.Throws<ArgumentException>(() => table.LookupUserBulk(new MappingKey[4], new MappingResult[3]));
        Assert.Throws<ArgumentException>(() => table.LookupSecureBulk(new MappingKey[4], new MappingResult[3]));
    }

    [Fact]
    public void A_secure_lookup_ignores_the_tenant_of_its_key_and_reports_the_mapping_tenant()
    {
        using var table = new MappingTable();
        MappingEntry entry = MappingTestKeys.Entry(77);
        table.Add(entry);
        MappingKey withTenant = MappingKey.FromBytes(5, entry.Secure.ToAddress().GetAddressBytes());
        Assert.True(table.TryLookupSecure(withTenant, out MappingResult result));
        Assert.Equal(entry.User, result.OtherSide);
        Assert.Equal(entry.User.Tenant, result.Tenant);
        Assert.True(table.TryLookupUser(entry.User, out result));
        Assert.Equal(0, result.Tenant);
        Assert.Equal(entry.Secure.ToAddress(), result.Address);
    }

    [Fact]
    public void Default_keys_never_match_freed_or_unused_entries()
    {
        using var table = new MappingTable();
        table.Add(MappingTestKeys.Entry(0));
        table.Remove(MappingTestKeys.User(0));
        Assert.False(table.TryLookupUser(default, out _));
        Assert.False(table.TryLookupSecure(default, out _));
        var results = new MappingResult[2];
        Assert.Equal(0, table.LookupSecureBulk(new MappingKey[2], results));
        Assert.False(results[0].Found);
    }

    private static void AssertBulkEqualsSingle(MappingTable table, MappingKey[] keys, bool user)
    {
        var results = new MappingResult[keys.Length];

        // Stale contents must be overwritten, misses included.
        results.AsSpan().Fill(new MappingResult { FoundWord = 1, Low = 99 });
        int hits = user ? table.LookupUserBulk(keys, results) : table.LookupSecureBulk(keys, results);
        int expectedHits = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            bool found = user ? table.TryLookupUser(keys[i], out MappingResult single) : table.TryLookupSecure(keys[i], out single);
            expectedHits += found ? 1 : 0;
            Assert.Equal(single, results[i]);
        }

        Assert.Equal(expectedHits, hits);
    }
}
