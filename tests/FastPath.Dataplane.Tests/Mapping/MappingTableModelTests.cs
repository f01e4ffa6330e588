using System.Net;
using FastPath.Dataplane.Mapping;

namespace FastPath.Dataplane.Tests.Mapping;

/// <summary>The table against Dictionary models of both directions, over random operation sequences.</summary>
public sealed class MappingTableModelTests
{
    [Theory]
    [InlineData(1, 0, 400, 60_000)]
    [InlineData(2, 0, 5_000, 60_000)]
    [InlineData(3, 3_000, 3_000, 60_000)]
    [InlineData(4, 0, 40, 20_000)]
    public void Random_adds_removes_and_lookups_agree_with_a_dictionary_model(int seed, int initialCapacity, int keySpace, int operations)
    {
        var random = new Random(seed);
        using var table = new MappingTable(initialCapacity);
        var forward = new Dictionary<MappingKey, MappingKey>();
        var reverse = new Dictionary<MappingKey, MappingKey>();
        int maxTombstones = 0;
        int startRebuilds = table.GetStats().Rebuilds;

        for (int op = 0; op < operations; op++)
        {
            int n = random.Next(keySpace);
            bool v6 = random.Next(2) == 0;
            MappingKey user = MappingTestKeys.User(n, v6);

            // Secure addresses drawn from a space of their own, so refusals of both kinds happen.
            MappingKey secure = MappingTestKeys.Secure(random.Next(keySpace), v6);
            switch (random.Next(10))
            {
                case < 5:
                    {
                        MappingAddResult expected = forward.ContainsKey(user) ? MappingAddResult.DuplicateUser
                            : reverse.ContainsKey(secure) ? MappingAddResult.DuplicateSecure : MappingAddResult.Added;
                        Assert.Equal(expected, table.Add(new MappingEntry(user, secure), out MappingEntry existing));
                        switch (expected)
                        {
                            case MappingAddResult.Added:
                                forward.Add(user, secure);
                                reverse.Add(secure, user);
                                break;
                            case MappingAddResult.DuplicateUser:
                                Assert.Equal(new MappingEntry(user, forward[user]), existing);
                                break;
                            default:
                                Assert.Equal(new MappingEntry(reverse[secure], secure), existing);
                                break;
                        }

                        break;
                    }

                case < 7:
                    {
                        bool had = forward.Remove(user, out MappingKey mapped);
                        if (had)
                        {
                            reverse.Remove(mapped);
                        }

                        Assert.Equal(had, table.Remove(user));
                        break;
                    }

                case 7:
                    {
                        bool had = reverse.Remove(secure, out MappingKey owner);
                        if (had)
                        {
                            forward.Remove(owner);
                        }

                        Assert.Equal(had, table.RemoveSecure(secure));
                        break;
                    }

                default:
                    AssertLookups(table, forward, reverse, user, secure);
                    break;
            }

            if (op % 1000 == 0)
            {
                maxTombstones = Math.Max(maxTombstones, table.GetStats().Tombstones);
                Assert.Equal(forward.Count, table.Count);
            }
        }

        foreach ((MappingKey user, MappingKey secure) in forward)
        {
            AssertLookups(table, forward, reverse, user, secure);
        }

        var listed = table.ToList();
        Assert.Equal(forward.Count, listed.Count);
        Assert.All(listed, entry => Assert.Equal(forward[entry.User], entry.Secure));

        // The sequences must have exercised what they are meant to: growth and deletes that leave tombstones.
        MappingTableStats stats = table.GetStats();
        Assert.True(stats.Rebuilds > startRebuilds || initialCapacity > 0, "the table never grew");
        Assert.True(maxTombstones > 0 || keySpace < 100, "no delete ever left a tombstone");
    }

    [Fact]
    public void Filling_past_capacity_grows_and_keeps_every_mapping_in_both_directions()
    {
        using var table = new MappingTable();
        int firstCapacity = table.Capacity;
        for (int i = 0; i < 50_000; i++)
        {
            Assert.Equal(MappingAddResult.Added, table.Add(MappingTestKeys.EntryFor(i)));
        }

        Assert.True(table.Capacity > firstCapacity);
        Assert.True(table.GetStats().Rebuilds >= 10);
        for (int i = 0; i < 50_000; i++)
        {
            MappingEntry entry = MappingTestKeys.EntryFor(i);
            Assert.True(table.TryLookupUser(entry.User, out MappingResult forward));
            Assert.Equal(entry.Secure, forward.OtherSide);
            Assert.True(table.TryLookupSecure(entry.Secure, out MappingResult reverse));
            Assert.Equal(entry.User, reverse.OtherSide);
            Assert.Equal(entry.User.Tenant, reverse.Tenant);
        }
    }

    [Fact]
    public void Churn_at_a_fixed_size_purges_tombstones_without_growing()
    {
        using var table = new MappingTable(1000);
        int capacity = table.Capacity;
        for (int i = 0; i < 1000; i++)
        {
            table.Add(MappingTestKeys.Entry(i));
        }

        // Each round replaces every mapping; tombstones pile up until a same-size rebuild drops them.
        for (int round = 1; round < 40; round++)
        {
            for (int i = 0; i < 1000; i++)
            {
                Assert.True(table.Remove(MappingTestKeys.User(i)));
                Assert.Equal(MappingAddResult.Added, table.Add(MappingTestKeys.Entry(i, generation: round % 2)));
            }
        }

        Assert.Equal(capacity, table.Capacity);
        Assert.Equal(1000, table.Count);
        Assert.True(table.TryLookupUser(MappingTestKeys.User(999), out MappingResult result));
        Assert.Equal(MappingTestKeys.Secure(999, generation: 1), result.OtherSide);
    }

    [Fact]
    public void Duplicates_are_refused_naming_the_mapping_already_present()
    {
        using var table = new MappingTable();
        var first = MappingEntry.Create(100, IPAddress.Parse("10.1.0.5"), IPAddress.Parse("198.18.0.5"));
        Assert.Equal(MappingAddResult.Added, table.Add(first));

        var sameUser = MappingEntry.Create(100, IPAddress.Parse("10.1.0.5"), IPAddress.Parse("198.18.0.6"));
        Assert.Equal(MappingAddResult.DuplicateUser, table.Add(sameUser, out MappingEntry existing));
        Assert.Equal(first, existing);

        // Secure addresses are unique across tenants.
        var sameSecure = MappingEntry.Create(200, IPAddress.Parse("10.1.0.5"), IPAddress.Parse("198.18.0.5"));
        Assert.Equal(MappingAddResult.DuplicateSecure, table.Add(sameSecure, out existing));
        Assert.Equal(first, existing);

        // Same user address in another tenant is another key.
        var otherTenant = MappingEntry.Create(200, IPAddress.Parse("10.1.0.5"), IPAddress.Parse("198.18.0.7"));
        Assert.Equal(MappingAddResult.Added, table.Add(otherTenant));
        Assert.Equal(2, table.Count);
    }

    [Fact]
    public void Malformed_entries_are_rejected_with_a_clear_error()
    {
        using var table = new MappingTable();
        var mismatch = Assert.Throws<ArgumentException>(() =>
            MappingEntry.Create(1, IPAddress.Parse("10.0.0.1"), IPAddress.Parse("2001:db8::1")));
        Assert.Contains("different families", mismatch.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => MappingEntry.Create(4095, IPAddress.Parse("10.0.0.1"), IPAddress.Parse("198.18.0.1")));
        Assert.Throws<ArgumentOutOfRangeException>(() => MappingEntry.Create(-1, IPAddress.Parse("10.0.0.1"), IPAddress.Parse("198.18.0.1")));
        Assert.Throws<ArgumentException>(() => table.Add(default(MappingEntry)));
        Assert.Throws<ArgumentException>(() => table.Add(new MappingEntry(MappingTestKeys.User(1), MappingTestKeys.User(2))));
        var imported = Assert.Throws<ArgumentException>(() => table.Import([MappingTestKeys.Entry(1), default]));
        Assert.StartsWith("entry 1:", imported.Message);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void Import_replaces_the_whole_set_or_on_a_duplicate_names_both_entries_and_changes_nothing()
    {
        using var table = new MappingTable();
        table.Add(MappingTestKeys.Entry(1_000_000));
        MappingEntry[] entries = [.. Enumerable.Range(0, 1000).Select(MappingTestKeys.EntryFor)];
        Assert.True(table.Import(entries).Succeeded);
        Assert.Equal(1000, table.Count);
        Assert.False(table.TryLookupUser(MappingTestKeys.User(1_000_000), out _));

        MappingEntry[] duplicateSecure = [.. entries, new MappingEntry(MappingTestKeys.User(5001, v6: true), entries[17].Secure)];
        Assert.Equal(new MappingImportResult(MappingAddResult.DuplicateSecure, 1000, 17), table.Import(duplicateSecure));
        MappingEntry[] duplicateUser = [MappingTestKeys.Entry(5), MappingTestKeys.Entry(6), new MappingEntry(MappingTestKeys.User(5), MappingTestKeys.Secure(9))];
        Assert.Equal(new MappingImportResult(MappingAddResult.DuplicateUser, 2, 0), table.Import(duplicateUser));

        Assert.Equal(1000, table.Count);
        Assert.True(table.TryLookupUser(MappingTestKeys.EntryFor(999).User, out MappingResult result));
        Assert.Equal(MappingTestKeys.EntryFor(999).Secure, result.OtherSide);
    }

    [Fact]
    public void Keys_built_from_packet_bytes_equal_keys_built_from_addresses()
    {
        byte[] v4 = [10, 1, 0, 5];
        byte[] v6 = IPAddress.Parse("fd00::5").GetAddressBytes();
        unsafe
        {
            fixed (byte* p4 = v4)
            fixed (byte* p6 = v6)
            {
                Assert.Equal(MappingKey.User(100, IPAddress.Parse("10.1.0.5")), MappingKey.FromPacket(100, p4, MappingKey.IPv4));
                Assert.Equal(MappingKey.User(0, IPAddress.Parse("fd00::5")), MappingKey.FromPacket(0, p6, MappingKey.IPv6));
            }

            MappingKey key = MappingKey.User(7, IPAddress.Parse("fd00::5"));
            byte* written = stackalloc byte[16];
            Assert.Equal(16, key.WriteAddress(written));
            Assert.True(new ReadOnlySpan<byte>(written, 16).SequenceEqual(v6));
        }

        Assert.Equal("100/10.1.0.5", MappingKey.User(100, IPAddress.Parse("10.1.0.5")).ToString());
        Assert.Equal(IPAddress.Parse("fd00::5"), MappingKey.Secure(IPAddress.Parse("fd00::5")).ToAddress());
        Assert.Throws<ArgumentException>(() => MappingKey.FromBytes(0, new byte[5]));
    }

    private static void AssertLookups(MappingTable table, Dictionary<MappingKey, MappingKey> forward, Dictionary<MappingKey, MappingKey> reverse, MappingKey user, MappingKey secure)
    {
        Assert.Equal(forward.TryGetValue(user, out MappingKey expectedSecure), table.TryLookupUser(user, out MappingResult result));
        Assert.Equal(expectedSecure, result.Found ? result.OtherSide : default);
        Assert.Equal(reverse.TryGetValue(secure, out MappingKey expectedUser), table.TryLookupSecure(secure, out result));
        Assert.Equal(expectedUser, result.Found ? result.OtherSide : default);
    }
}
