using FastPath.Dataplane.Mapping;

namespace FastPath.Dataplane.Tests.Mapping;

public sealed class KeyedHashTests
{
    [Fact]
    public void Keys_that_all_collide_under_the_unkeyed_hash_spread_out_under_the_process_seed()
    {
        // Adversarial set: keys found by search to share one unkeyed hash value (home bucket and tag) —
        // what an attacker who knows the hash function but not the seed would provision.
        const int Count = 3000;
        KeyedHash unkeyed = KeyedHash.Unkeyed;
        MappingKey probe = MappingTestKeys.User(0);
        ulong target = unkeyed.Hash(probe.Low, probe.High, probe.Meta);
        var keys = new List<MappingEntry>();
        for (int n = 0; keys.Count < Count; n += 4095)
        {
            MappingKey user = MappingTestKeys.User(n);
            if (unkeyed.Hash(user.Low, user.High, user.Meta) == target)
            {
                keys.Add(new MappingEntry(user, MappingTestKeys.Secure(keys.Count)));
            }
        }

        double unkeyedProbes = MeanProbes(new MappingTable(Count, null, KeyedHash.Unkeyed), keys, out int unkeyedWorst);
        double keyedProbes = MeanProbes(new MappingTable(Count), keys, out int keyedWorst);

        // Unkeyed: every key shares a home bucket, so lookups walk ~Count/12/2 buckets. Keyed: ~1.
        Assert.True(unkeyedProbes > 50, $"unkeyed mean probes {unkeyedProbes}");
        Assert.True(keyedProbes < 1.5, $"keyed mean probes {keyedProbes}");
        Assert.True(keyedWorst <= 8, $"keyed worst probes {keyedWorst}");
        Assert.True(unkeyedWorst > 200, $"unkeyed worst probes {unkeyedWorst}");
    }

    [Fact]
    public void Each_process_draws_a_seed_of_its_own()
    {
        // Two fresh draws differ (2^-256 chance of a false failure), and the process seed is not zero.
        KeyedHash a = KeyedHash.CreateRandom();
        KeyedHash b = KeyedHash.CreateRandom();
        MappingKey key = MappingTestKeys.User(1);
        Assert.NotEqual(a.Hash(key.Low, key.High, key.Meta), b.Hash(key.Low, key.High, key.Meta));
        Assert.NotEqual(KeyedHash.Unkeyed.Hash(key.Low, key.High, key.Meta), KeyedHash.Process.Hash(key.Low, key.High, key.Meta));
    }

    private static double MeanProbes(MappingTable table, List<MappingEntry> entries, out int worst)
    {
        using (table)
        {
            foreach (MappingEntry entry in entries)
            {
                Assert.Equal(MappingAddResult.Added, table.Add(entry));
            }

            long total = 0;
            worst = 0;
            foreach (MappingEntry entry in entries)
            {
                Assert.True(table.TryLookupUser(entry.User, out MappingResult result));
                Assert.Equal(entry.Secure, result.OtherSide);
                int probes = table.CountUserProbes(entry.User);
                total += probes;
                worst = Math.Max(worst, probes);
            }

            return (double)total / entries.Count;
        }
    }
}
