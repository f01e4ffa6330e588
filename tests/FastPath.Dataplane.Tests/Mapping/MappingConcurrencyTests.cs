using System.Buffers.Binary;
using System.Diagnostics;
using FastPath.Dataplane.Mapping;

namespace FastPath.Dataplane.Tests.Mapping;

/// <summary>Readers on their own threads while the writer changes the table; every answer is checked exactly.</summary>
public sealed class MappingConcurrencyTests
{
    private const int Stable = 4000;
    private const int Churn = 2000;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Fact]
    public void Readers_during_a_writers_million_updates_never_see_a_wrong_or_torn_mapping()
    {
        // Starts small so the stable set's arrival forces growth (table swaps) while readers run.
        using var table = new MappingTable();
        int stableAdded = 0;
        bool done = false;
        var failures = new List<string>();
        long checks = 0;

        var readers = Enumerable.Range(0, 2).Select(r => new Thread(() =>
        {
            int id = table.Epoch.RegisterReader();
            var random = new Random(r);
            var keys = new MappingKey[64];
            var expected = new int[64];
            var results = new MappingResult[64];
            try
            {
                while (!Volatile.Read(ref done))
                {
                    int stableKnown = Volatile.Read(ref stableAdded);
                    bool reverse = random.Next(2) == 0;
                    for (int i = 0; i < keys.Length; i++)
                    {
                        // Half stable keys already added (must hit), half churn keys (either generation or a miss).
                        int n = (i & 1) == 0 && stableKnown > 0 ? random.Next(stableKnown) : Stable + random.Next(Churn);
                        expected[i] = n;
                        keys[i] = reverse ? SecureFor(n, n < Stable ? 0 : random.Next(2)) : UserFor(n);
                    }

                    if (reverse)
                    {
                        table.LookupSecureBulk(keys, results);
                    }
                    else
                    {
                        table.LookupUserBulk(keys, results);
                    }

                    for (int i = 0; i < keys.Length; i++)
                    {
                        string? problem = Check(expected[i], reverse, keys[i], results[i]);
                        bool single = reverse ? table.TryLookupSecure(keys[i], out MappingResult one) : table.TryLookupUser(keys[i], out one);
                        problem ??= Check(expected[i], reverse, keys[i], one);
                        if (problem is not null)
                        {
                            lock (failures)
                            {
                                failures.Add(problem);
                            }
                        }
                    }

                    Interlocked.Add(ref checks, keys.Length * 2);
                    table.Epoch.Quiescent(id);
                }
            }
            finally
            {
                table.Epoch.UnregisterReader(id);
            }
        })).ToList();
        readers.ForEach(t => t.Start());

        var clock = Stopwatch.StartNew();
        var present = new int[Churn];
        var random = new Random(42);
        int updates = 0;
        try
        {
            for (int n = 0; n < Stable; n++)
            {
                Assert.Equal(MappingAddResult.Added, table.Add(new MappingEntry(UserFor(n), SecureFor(n, 0))));
                Volatile.Write(ref stableAdded, n + 1);
                updates++;
            }

            while (updates < 1_000_000 && clock.Elapsed < Bound)
            {
                int c = random.Next(Churn);
                int n = Stable + c;
                if (present[c] != 0)
                {
                    Assert.True(table.Remove(UserFor(n)));
                    present[c] = 0;
                }
                else
                {
                    // Alternate generations, so a reader that mixed two versions of an entry would notice.
                    int generation = (updates >> 1) & 1;
                    Assert.Equal(MappingAddResult.Added, table.Add(new MappingEntry(UserFor(n), SecureFor(n, generation))));
                    present[c] = 1;
                }

                updates++;
            }
        }
        finally
        {
            Volatile.Write(ref done, true);
            readers.ForEach(t => t.Join());
        }

        Assert.Equal(1_000_000, updates);
        Assert.Empty(failures);
        Assert.True(Interlocked.Read(ref checks) > 10_000, $"readers made only {checks} checks");
        Assert.True(table.GetStats().Rebuilds > 5);
    }

    [Fact]
    public void A_bulk_lookup_during_imports_sees_the_old_set_or_the_new_one_never_a_mix()
    {
        const int Size = 5000;
        MappingEntry[][] generations = [.. Enumerable.Range(0, 2).Select(g =>
            Enumerable.Range(0, Size).Select(n => new MappingEntry(UserFor(n), SecureFor(n, g))).ToArray())];
        using var table = new MappingTable();
        Assert.True(table.Import(generations[0]).Succeeded);
        bool done = false;
        var failures = new List<string>();
        long batches = 0;

        var readers = Enumerable.Range(0, 2).Select(r => new Thread(() =>
        {
            int id = table.Epoch.RegisterReader();
            var random = new Random(r);
            var keys = new MappingKey[MappingTable.MaxBurst];
            var results = new MappingResult[MappingTable.MaxBurst];
            try
            {
                while (!Volatile.Read(ref done))
                {
                    for (int i = 0; i < keys.Length; i++)
                    {
                        keys[i] = UserFor(random.Next(Size));
                    }

                    int hits = table.LookupUserBulk(keys, results);
                    int generation = results[0].Found ? GenerationOf(results[0].OtherSide) : -1;
                    for (int i = 0; i < keys.Length; i++)
                    {
                        int n = NumberOf(keys[i]);
                        if (hits != keys.Length || (generation != 0 && generation != 1) || results[i].OtherSide != SecureFor(n, generation))
                        {
                            lock (failures)
                            {
                                failures.Add($"batch saw {hits} hits, key {n} -> {results[i]} with batch generation {generation}");
                            }

                            break;
                        }
                    }

                    Interlocked.Increment(ref batches);
                    table.Epoch.Quiescent(id);
                }
            }
            finally
            {
                table.Epoch.UnregisterReader(id);
            }
        })).ToList();
        readers.ForEach(t => t.Start());

        var clock = Stopwatch.StartNew();
        int imports = 0;
        try
        {
            while (imports < 200 && clock.Elapsed < Bound)
            {
                Assert.True(table.Import(generations[++imports & 1]).Succeeded);
            }
        }
        finally
        {
            Volatile.Write(ref done, true);
            readers.ForEach(t => t.Join());
        }

        Assert.Equal(200, imports);
        Assert.Empty(failures);
        Assert.True(Interlocked.Read(ref batches) > 0);
    }

    [Fact]
    public void Synchronize_waits_for_an_online_reader_to_pass_a_quiescent_point_and_never_for_an_offline_one()
    {
        var epoch = new MappingEpoch();
        int reader = epoch.RegisterReader();
        Thread sync = StartSynchronize(epoch);

        // The reader has not announced anything since the writer began: the writer must still be waiting.
        Assert.False(sync.Join(100));
        epoch.Quiescent(reader);
        Assert.True(sync.Join(Bound));

        epoch.ReaderExit(reader);
        Assert.True(StartSynchronize(epoch).Join(Bound));
        epoch.ReaderEnter(reader);
        sync = StartSynchronize(epoch);
        Assert.False(sync.Join(50));
        epoch.UnregisterReader(reader);
        Assert.True(sync.Join(Bound));
    }

    private static Thread StartSynchronize(MappingEpoch epoch)
    {
        var thread = new Thread(epoch.Synchronize) { IsBackground = true };
        thread.Start();
        return thread;
    }

    [Fact]
    public void Reader_slots_are_bounded_and_reused()
    {
        var epoch = new MappingEpoch();
        int[] ids = [.. Enumerable.Range(0, MappingEpoch.MaxReaders).Select(_ => epoch.RegisterReader())];
        Assert.Equal(MappingEpoch.MaxReaders, ids.Distinct().Count());
        Assert.Throws<InvalidOperationException>(() => epoch.RegisterReader());
        epoch.UnregisterReader(ids[7]);
        Assert.Equal(ids[7], epoch.RegisterReader());
        Assert.Throws<ArgumentOutOfRangeException>(() => epoch.Quiescent(MappingEpoch.MaxReaders));
        Assert.Equal(MappingEpoch.MaxReaders, epoch.ReaderCount);
    }

    private static string? Check(int n, bool reverse, MappingKey key, MappingResult result)
    {
        if (!reverse)
        {
            if (!result.Found)
            {
                return n < Stable ? $"stable user key {n} missed" : null;
            }

            MappingKey secure = result.OtherSide;
            int generation = GenerationOf(secure);
            return (generation is 0 or 1 && secure == SecureFor(n, generation) && (n >= Stable || generation == 0))
                ? null
                : $"user key {n} -> {result} (torn or wrong)";
        }

        if (!result.Found)
        {
            return n < Stable ? $"stable secure key {n} missed" : null;
        }

        return result.OtherSide == UserFor(n) && result.Tenant == UserFor(n).Tenant ? null : $"secure key {key} -> {result} (expected user {n})";
    }

    private static MappingKey UserFor(int n) => MappingTestKeys.User(n, v6: true);

    // Both address words carry the generation and the number, so a result stitched from two versions
    // or two entries matches no valid secure address.
    private static MappingKey SecureFor(int n, int generation)
    {
        byte[] bytes = new byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, 0x2001_0db8);
        bytes[4] = (byte)(0xa0 + generation);
        WriteUInt24(bytes.AsSpan(5), n);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(8), n);
        bytes[12] = (byte)(0xa0 + generation);
        WriteUInt24(bytes.AsSpan(13), n);
        return MappingKey.FromBytes(0, bytes);
    }

    private static void WriteUInt24(Span<byte> destination, int value)
    {
        destination[0] = (byte)(value >> 16);
        destination[1] = (byte)(value >> 8);
        destination[2] = (byte)value;
    }

    private static int GenerationOf(MappingKey secure) => (int)((byte)(secure.ToAddress().GetAddressBytes()[4]) - 0xa0);

    private static int NumberOf(MappingKey user) => BinaryPrimitives.ReadInt32BigEndian(user.ToAddress().GetAddressBytes().AsSpan(12));
}
