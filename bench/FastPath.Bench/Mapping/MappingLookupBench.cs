using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using FastPath.Dataplane.Mapping;

namespace FastPath.Bench.Mapping;

/// <summary>
/// User-side lookups per key: FastPath's table (bulk of 256 and single) against Dictionary,
/// ConcurrentDictionary and FrozenDictionary holding the same mappings, in the same run. Every table is
/// 100 % hits; each invocation takes the next 4096 keys of a 1M-key uniform or Zipf stream.
/// </summary>
[Config(typeof(MappingBenchConfig))]
[MemoryDiagnoser(displayGenColumns: false)]
public class MappingLookupBench
{
    private const int KeysPerInvocation = 4096;

    private MappingTable? _table;
    private Dictionary<MappingKey, MappingKey>? _dictionary;
    private ConcurrentDictionary<MappingKey, MappingKey>? _concurrent;
    private FrozenDictionary<MappingKey, MappingKey>? _frozen;
    private MappingKey[] _keys = [];
    private MappingResult[] _results = new MappingResult[MappingTable.MaxBurst];
    private int _position;

    [Params(1_000, 1_000_000, 16_000_000)]
    public int Entries { get; set; }

    [Params(false, true)]
    public bool Zipf { get; set; }

    [GlobalSetup(Targets = [nameof(MappingBulk), nameof(MappingSingle)])]
    public void SetupTable()
    {
        MappingEntry[] entries = BuildEntries();
        long before = Environment.WorkingSet;
        var clock = Stopwatch.StartNew();
        _table = new MappingTable(Entries);
        if (!_table.Import(entries).Succeeded)
        {
            throw new InvalidOperationException("import refused the benchmark's entries");
        }

        MappingTableStats stats = _table.GetStats();
        Console.WriteLine($"// MappingTable import of {Entries}: {clock.Elapsed.TotalSeconds:F2} s; {stats.Buckets} buckets/direction; " +
            $"{stats.BytesPerEntry:F1} B/entry touched; working set grew {(double)(Environment.WorkingSet - before) / Entries:F1} B/entry");
    }

    [GlobalSetup(Target = nameof(Dictionary))]
    public void SetupDictionary()
    {
        MappingEntry[] entries = BuildEntries();
        _dictionary = new Dictionary<MappingKey, MappingKey>(Entries);
        foreach (MappingEntry entry in entries)
        {
            _dictionary.Add(entry.User, entry.Secure);
        }
    }

    [GlobalSetup(Target = nameof(ConcurrentDictionary))]
    public void SetupConcurrent()
    {
        MappingEntry[] entries = BuildEntries();
        _concurrent = new ConcurrentDictionary<MappingKey, MappingKey>(Environment.ProcessorCount, Entries);
        foreach (MappingEntry entry in entries)
        {
            _concurrent.TryAdd(entry.User, entry.Secure);
        }
    }

    [GlobalSetup(Target = nameof(FrozenDictionary))]
    public void SetupFrozen()
    {
        MappingEntry[] entries = BuildEntries();
        _frozen = entries.ToFrozenDictionary(e => e.User, e => e.Secure);
    }

    [GlobalCleanup]
    public void Cleanup() => _table?.Dispose();

    [Benchmark(OperationsPerInvoke = KeysPerInvocation)]
    public int MappingBulk()
    {
        ReadOnlySpan<MappingKey> keys = NextKeys();
        int hits = 0;
        for (int i = 0; i < KeysPerInvocation; i += MappingTable.MaxBurst)
        {
            hits += _table!.LookupUserBulk(keys.Slice(i, MappingTable.MaxBurst), _results);
        }

        return hits;
    }

    [Benchmark(OperationsPerInvoke = KeysPerInvocation)]
    public int MappingSingle()
    {
        ReadOnlySpan<MappingKey> keys = NextKeys();
        MappingTable table = _table!;
        int hits = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            hits += table.TryLookupUser(in keys[i], out _) ? 1 : 0;
        }

        return hits;
    }

    [Benchmark(OperationsPerInvoke = KeysPerInvocation, Baseline = true)]
    public int Dictionary()
    {
        ReadOnlySpan<MappingKey> keys = NextKeys();
        Dictionary<MappingKey, MappingKey> dictionary = _dictionary!;
        int hits = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            hits += dictionary.TryGetValue(keys[i], out _) ? 1 : 0;
        }

        return hits;
    }

    [Benchmark(OperationsPerInvoke = KeysPerInvocation)]
    public int ConcurrentDictionary()
    {
        ReadOnlySpan<MappingKey> keys = NextKeys();
        ConcurrentDictionary<MappingKey, MappingKey> dictionary = _concurrent!;
        int hits = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            hits += dictionary.TryGetValue(keys[i], out _) ? 1 : 0;
        }

        return hits;
    }

    [Benchmark(OperationsPerInvoke = KeysPerInvocation)]
    public int FrozenDictionary()
    {
        ReadOnlySpan<MappingKey> keys = NextKeys();
        FrozenDictionary<MappingKey, MappingKey> dictionary = _frozen!;
        int hits = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            hits += dictionary.TryGetValue(keys[i], out _) ? 1 : 0;
        }

        return hits;
    }

    private MappingEntry[] BuildEntries()
    {
        var entries = new MappingEntry[Entries];
        for (int n = 0; n < entries.Length; n++)
        {
            entries[n] = MappingKeyStream.Entry(n);
        }

        int[] indices = MappingKeyStream.Indices(Entries, Zipf, seed: 5);
        _keys = new MappingKey[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            _keys[i] = entries[indices[i]].User;
        }

        return entries;
    }

    private ReadOnlySpan<MappingKey> NextKeys()
    {
        int start = _position;
        _position = (start + KeysPerInvocation) & (MappingKeyStream.StreamLength - 1);
        return _keys.AsSpan(start, KeysPerInvocation);
    }
}
