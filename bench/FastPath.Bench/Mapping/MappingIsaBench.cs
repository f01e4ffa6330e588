using BenchmarkDotNet.Attributes;
using FastPath.Dataplane.Mapping;

namespace FastPath.Bench.Mapping;

/// <summary>
/// Bulk lookups in both directions per instruction-set level (the scalar job, with the SWAR tag match and
/// no prefetch, is the baseline), on a 64K-entry table whose lines mostly stay in L2/L3, so the figure
/// is compute rather than DRAM.
/// </summary>
[Config(typeof(IsaJobsConfig))]
public class MappingIsaBench
{
    private const int Entries = 65_536;
    private const int KeysPerInvocation = 4096;

    private MappingTable? _table;
    private MappingKey[] _users = [];
    private MappingKey[] _secures = [];
    private readonly MappingResult[] _results = new MappingResult[MappingTable.MaxBurst];
    private int _position;

    [GlobalSetup]
    public void Setup()
    {
        var entries = new MappingEntry[Entries];
        for (int n = 0; n < Entries; n++)
        {
            entries[n] = MappingKeyStream.Entry(n);
        }

        _table = new MappingTable(Entries);
        _ = _table.Import(entries);
        int[] indices = MappingKeyStream.Indices(Entries, zipf: false, seed: 7);
        _users = [.. indices.Select(i => entries[i].User)];
        _secures = [.. indices.Select(i => entries[i].Secure)];
    }

    [GlobalCleanup]
    public void Cleanup() => _table?.Dispose();

    [Benchmark(OperationsPerInvoke = KeysPerInvocation)]
    public int UserBulk() => Run(_users, user: true);

    [Benchmark(OperationsPerInvoke = KeysPerInvocation)]
    public int SecureBulk() => Run(_secures, user: false);

    private int Run(MappingKey[] stream, bool user)
    {
        int start = _position;
        _position = (start + KeysPerInvocation) & (MappingKeyStream.StreamLength - 1);
        int hits = 0;
        for (int i = 0; i < KeysPerInvocation; i += MappingTable.MaxBurst)
        {
            ReadOnlySpan<MappingKey> keys = stream.AsSpan(start + i, MappingTable.MaxBurst);
            hits += user ? _table!.LookupUserBulk(keys, _results) : _table!.LookupSecureBulk(keys, _results);
        }

        return hits;
    }
}
