using System.Buffers.Binary;
using System.Diagnostics;
using FastPath.Dataplane.Mapping;

namespace FastPath.Dataplane.Tests.Mapping;

public sealed class MappingCapacityTests
{
    private const int SixteenMillion = 16 * 1024 * 1024;

    // Filling all 16M takes over a minute in a Debug test run on this 2-core machine, so the test sizes
    // the table for 16M and fills 1M spread across all of its buckets; the full 16M build and its memory
    // are measured by bench/FastPath.Bench/Mapping (MappingTableBuild) and recorded in bench/RESULTS.md.
    private const int Filled = 1024 * 1024;

    [Fact]
    public void A_table_sized_for_sixteen_million_mappings_is_allocated_and_looks_up_correctly_in_both_directions()
    {
        MappingEntry[] entries = new MappingEntry[Filled];
        for (int n = 0; n < entries.Length; n++)
        {
            entries[n] = Entry(n);
        }

        var clock = Stopwatch.StartNew();
        using var table = new MappingTable(SixteenMillion);
        int capacity = table.Capacity;
        Assert.True(table.Import(entries).Succeeded);
        TimeSpan build = clock.Elapsed;

        MappingTableStats stats = table.GetStats();
        Assert.Equal(Filled, stats.Count);
        Assert.True(capacity >= SixteenMillion);
        Assert.Equal(capacity, stats.Capacity);
        TestContext.Current.SendDiagnosticMessage(
            $"1M import into a 16M table {build.TotalSeconds:F1} s; {stats.Buckets} buckets/direction, {stats.ReservedBytes >> 20} MiB reserved");

        // Entries 64 B each plus two bucket arrays of 64 B per 12 slots.
        Assert.Equal(((long)capacity * 64) + (2L * stats.Buckets * 64), stats.ReservedBytes);

        var random = new Random(16);
        var users = new MappingKey[MappingTable.MaxBurst];
        var secures = new MappingKey[MappingTable.MaxBurst];
        var numbers = new int[MappingTable.MaxBurst];
        var results = new MappingResult[MappingTable.MaxBurst];
        for (int round = 0; round < 400; round++)
        {
            for (int i = 0; i < users.Length; i++)
            {
                numbers[i] = random.Next(Filled + (Filled / 8));
                MappingEntry entry = Entry(numbers[i]);
                users[i] = entry.User;
                secures[i] = entry.Secure;
            }

            table.LookupUserBulk(users, results);
            for (int i = 0; i < users.Length; i++)
            {
                Assert.Equal(numbers[i] < Filled, results[i].Found);
                Assert.Equal(numbers[i] < Filled ? secures[i] : default, results[i].OtherSide);
            }

            table.LookupSecureBulk(secures, results);
            for (int i = 0; i < users.Length; i++)
            {
                Assert.Equal(numbers[i] < Filled ? users[i] : default, results[i].OtherSide);
            }
        }
    }

    // User 10.0.0.0/8 + n in tenant n % 4095 (IPv4) or fd00::n (IPv6 for every 4th); secure unique per n.
    private static MappingEntry Entry(int n)
    {
        Span<byte> user = stackalloc byte[16];
        Span<byte> secure = stackalloc byte[16];
        if ((n & 3) == 3)
        {
            user.Clear();
            secure.Clear();
            BinaryPrimitives.WriteUInt16BigEndian(user, 0xfd00);
            BinaryPrimitives.WriteInt32BigEndian(user[12..], n);
            BinaryPrimitives.WriteUInt32BigEndian(secure, 0x2001_0db8);
            BinaryPrimitives.WriteInt32BigEndian(secure[12..], n);
            return new MappingEntry(MappingKey.FromBytes((ushort)(n % 4095), user), MappingKey.FromBytes(0, secure));
        }

        BinaryPrimitives.WriteInt32BigEndian(user, (10 << 24) | (n & 0xFF_FFFF));
        BinaryPrimitives.WriteInt32BigEndian(secure, (int)((uint)((n >> 24) + 100) << 24) | (n & 0xFF_FFFF));
        return new MappingEntry(MappingKey.FromBytes((ushort)(n % 4095), user[..4]), MappingKey.FromBytes(0, secure[..4]));
    }
}
