using System.Text;
using Etcdserverpb;
using FastPath.Dataplane.Mapping;
using Google.Protobuf;

namespace FastPath.Control.Maps.Etcd;

/// <summary>
/// Reads and writes a fleet's mappings in etcd (layout: <see cref="EtcdKeys"/>). Every add and delete is one
/// transaction that compares the generation and both keys, so two writers racing cannot create a conflict; an import
/// writes a new generation in chunks, then switches the generation pointer in one transaction (README "Fleet").
/// </summary>
/// <remarks>Thread-safe: stateless besides the connection, which is thread-safe.</remarks>
public sealed class EtcdMapStore(EtcdConnection connection)
{
    /// <summary>Entries per import transaction: two puts each, within etcd's default of 128 operations.</summary>
    public const int ImportChunk = 64;

    /// <summary>Keys per snapshot page (well under the 64 MiB receive limit at ~150 bytes a key and value).</summary>
    public const int PageSize = 10_000;

    /// <summary>Import transactions in flight at once: 8 by default, <c>FASTPATH_ETCD_IMPORT_PARALLELISM</c> (1..64) sets it for benchmarks.</summary>
    internal static readonly int ImportParallelism =
        int.TryParse(Environment.GetEnvironmentVariable("FASTPATH_ETCD_IMPORT_PARALLELISM"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 64 ? n : 8;

    /// <summary>Tries of one add/delete when an import switches the generation under it.</summary>
    private const int GenerationRetries = 5;

    private string Prefix => connection.Config.Prefix;

    /// <summary>The current generation (<see cref="EtcdKeys.InitialGeneration"/> before any import) and the header of the read.</summary>
    public async Task<EtcdGeneration> GenerationAsync(long revision, CancellationToken cancellation)
    {
        RangeResponse response = await connection.RangeAsync(new RangeRequest { Key = EtcdKeys.Bytes(EtcdKeys.GenerationKey(Prefix)), Revision = revision }, cancellation).ConfigureAwait(false);
        return response.Kvs.Count == 0
            ? new EtcdGeneration(EtcdKeys.InitialGeneration, false, response.Header.Revision, response.Header.ClusterId)
            : new EtcdGeneration(response.Kvs[0].Value.ToStringUtf8(), true, response.Header.Revision, response.Header.ClusterId);
    }

    /// <summary>Adds one mapping, or says which mapping is in the way.</summary>
    public async Task<EtcdWriteResult> AddAsync(MappingEntry entry, CancellationToken cancellation)
    {
        for (int attempt = 0; attempt < GenerationRetries; attempt++)
        {
            EtcdGeneration generation = await GenerationAsync(0, cancellation).ConfigureAwait(false);
            ByteString user = EtcdKeys.Bytes(EtcdKeys.UserKey(Prefix, generation.Id, entry.User));
            ByteString secure = EtcdKeys.Bytes(EtcdKeys.SecureKey(Prefix, generation.Id, entry.Secure));
            var txn = new TxnRequest();
            txn.Compare.Add(GenerationUnchanged(generation));
            txn.Compare.Add(new Compare { Key = user, Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Equal, Version = 0 });
            txn.Compare.Add(new Compare { Key = secure, Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Equal, Version = 0 });
            txn.Success.Add(Put(user, EtcdKeys.UserValue(entry)));
            txn.Success.Add(Put(secure, EtcdKeys.SecureValue(entry)));
            txn.Failure.Add(Get(EtcdKeys.Bytes(EtcdKeys.GenerationKey(Prefix))));
            txn.Failure.Add(Get(user));
            txn.Failure.Add(Get(secure));
            TxnResponse response = await connection.TxnAsync(txn, cancellation).ConfigureAwait(false);
            if (response.Succeeded)
            {
                return new EtcdWriteResult(EtcdWriteStatus.Done, response.Header.Revision, string.Empty);
            }

            if (!SameGeneration(response.Responses[0].ResponseRange, generation))
            {
                continue;
            }

            if (response.Responses[1].ResponseRange.Kvs.Count > 0)
            {
                string held = Secure(response.Responses[1].ResponseRange.Kvs[0].Value);
                return new EtcdWriteResult(EtcdWriteStatus.Conflict, response.Header.Revision,
                    $"conflict: (tenant {entry.User.Tenant}, {entry.User.ToAddress()}) is already mapped to {held}");
            }

            string owner = response.Responses[2].ResponseRange.Kvs.Count > 0 ? response.Responses[2].ResponseRange.Kvs[0].Value.ToStringUtf8() : "?";
            int slash = owner.IndexOf('/', StringComparison.Ordinal);
            string ownerText = slash > 0 ? $"(tenant {owner[..slash]}, {owner[(slash + 1)..]})" : owner;
            return new EtcdWriteResult(EtcdWriteStatus.Conflict, response.Header.Revision,
                $"conflict: secure address {entry.Secure.ToAddress()} is already mapped from {ownerText}");
        }

        throw new InvalidOperationException($"the generation of {Prefix} kept changing under the write ({GenerationRetries} tries)");
    }

    /// <summary>Deletes the mapping of <paramref name="user"/> (both its keys, in one transaction).</summary>
    public async Task<EtcdWriteResult> DeleteAsync(MappingKey user, CancellationToken cancellation)
    {
        for (int attempt = 0; attempt < GenerationRetries; attempt++)
        {
            EtcdGeneration generation = await GenerationAsync(0, cancellation).ConfigureAwait(false);
            ByteString userKey = EtcdKeys.Bytes(EtcdKeys.UserKey(Prefix, generation.Id, user));
            RangeResponse current = await connection.RangeAsync(new RangeRequest { Key = userKey, Revision = generation.Revision }, cancellation).ConfigureAwait(false);
            if (current.Kvs.Count == 0)
            {
                return new EtcdWriteResult(EtcdWriteStatus.NotFound, current.Header.Revision, $"no mapping for (tenant {user.Tenant}, {user.ToAddress()})");
            }

            var txn = new TxnRequest();
            txn.Compare.Add(GenerationUnchanged(generation));
            txn.Compare.Add(new Compare { Key = userKey, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = current.Kvs[0].ModRevision });
            txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = userKey } });
            string userText = Encoding.UTF8.GetString(userKey.Span);
            if (EtcdKeys.ParseValue(userText, current.Kvs[0].Value.Span, user, out _) is MappingEntry entry)
            {
                txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = EtcdKeys.Bytes(EtcdKeys.SecureKey(Prefix, generation.Id, entry.Secure)) } });
            }

            TxnResponse response = await connection.TxnAsync(txn, cancellation).ConfigureAwait(false);
            if (response.Succeeded)
            {
                return new EtcdWriteResult(EtcdWriteStatus.Done, response.Header.Revision, string.Empty);
            }
        }

        throw new InvalidOperationException($"the mapping or the generation of {Prefix} kept changing under the delete ({GenerationRetries} tries)");
    }

    /// <summary>
    /// Replaces every mapping atomically for every reader: the entries go into a new generation in transactions of
    /// <see cref="ImportChunk"/>, one transaction then moves <c>gen</c> (compared against the old one) and marks the old
    /// generation retired, and the old generation is deleted. <paramref name="entries"/> are checked already (no duplicates).
    /// </summary>
    public async Task<EtcdWriteResult> ImportAsync(MappingEntry[] entries, CancellationToken cancellation)
    {
        EtcdGeneration old = await GenerationAsync(0, cancellation).ConfigureAwait(false);
        string next = EtcdKeys.NewGeneration();
        try
        {
            using var slots = new SemaphoreSlim(ImportParallelism);
            var pending = new List<Task>();
            byte[] userHead = Encoding.UTF8.GetBytes(EtcdKeys.UserPrefix(Prefix, next));
            byte[] secureHead = Encoding.UTF8.GetBytes(EtcdKeys.GenerationPrefix(Prefix, next) + "s/");
            for (int start = 0; start < entries.Length; start += ImportChunk)
            {
                await slots.WaitAsync(cancellation).ConfigureAwait(false);
                var txn = new TxnRequest();
                for (int i = start; i < Math.Min(entries.Length, start + ImportChunk); i++)
                {
                    (ByteString userKey, ByteString userValue, ByteString secureKey, ByteString secureValue) = EtcdKeys.ImportPuts(userHead, secureHead, entries[i]);
                    txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = userKey, Value = userValue } });
                    txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = secureKey, Value = secureValue } });
                }

                pending.Add(WriteChunkAsync(txn, slots, cancellation));
                if (pending.Count >= 1024)
                {
                    await Task.WhenAll(pending).ConfigureAwait(false);
                    pending.Clear();
                }
            }

            await Task.WhenAll(pending).ConfigureAwait(false);
            var txnSwitch = new TxnRequest();
            txnSwitch.Compare.Add(GenerationUnchanged(old));
            txnSwitch.Success.Add(Put(EtcdKeys.Bytes(EtcdKeys.GenerationKey(Prefix)), next));
            txnSwitch.Success.Add(Put(EtcdKeys.Bytes(EtcdKeys.RetiredKey(Prefix, old.Id)), next));
            TxnResponse switched = await connection.TxnAsync(txnSwitch, cancellation).ConfigureAwait(false);
            if (!switched.Succeeded)
            {
                await DeleteGenerationAsync(next, CancellationToken.None).ConfigureAwait(false);
                return new EtcdWriteResult(EtcdWriteStatus.Conflict, switched.Header.Revision, $"another import replaced generation {old.Id} first; nothing changed by this one");
            }

            // The old generation is garbage from here on: no writer can use it (they compare gen) and daemons moved off it.
            await DeleteGenerationAsync(old.Id, cancellation).ConfigureAwait(false);
            return new EtcdWriteResult(EtcdWriteStatus.Done, switched.Header.Revision, string.Empty, entries.Length);
        }
        catch (Exception) when (!cancellation.IsCancellationRequested)
        {
            // A half-written generation nobody points at is removed (best effort; it is invisible either way).
            try
            {
                await DeleteGenerationAsync(next, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Grpc.Core.RpcException)
            {
            }

            throw;
        }
    }

    /// <summary>
    /// The mappings of <paramref name="generation"/> at <paramref name="revision"/>; each malformed key goes to
    /// <paramref name="malformed"/> (key, why) and is skipped. The user range is cut into disjoint sub-ranges by the
    /// first byte of the tenant (<see cref="SnapshotRanges"/>), read <see cref="SnapshotParallelism"/> at a time, each
    /// page by page, every read at the same <paramref name="revision"/>: one consistent snapshot, but etcd serves
    /// several ranges at once and the pages are parsed while others are in flight, where one chain of pages waited
    /// for each round trip in turn (about 6× the maps file's load time for 1M entries, bench/RESULTS.md).
    /// </summary>
    public async Task<List<MappingEntry>> LoadAsync(string generation, long revision, Action<string, string> malformed, CancellationToken cancellation)
    {
        string prefix = EtcdKeys.UserPrefix(Prefix, generation);
        (ByteString From, ByteString End)[] ranges = SnapshotRanges(prefix);
        var parts = new List<MappingEntry>[ranges.Length];
        var gate = new Lock();
        void Report(string key, string why)
        {
            lock (gate)
            {
                malformed(key, why);
            }
        }

        using var slots = new SemaphoreSlim(SnapshotParallelism);
        await Task.WhenAll(ranges.Select(async (range, index) =>
        {
            await slots.WaitAsync(cancellation).ConfigureAwait(false);
            try
            {
                parts[index] = await LoadRangeAsync(range.From, range.End, prefix.Length, revision, Report, cancellation).ConfigureAwait(false);
            }
            finally
            {
                slots.Release();
            }
        })).ConfigureAwait(false);

        var entries = new List<MappingEntry>(parts.Sum(part => part.Count));
        foreach (List<MappingEntry> part in parts)
        {
            entries.AddRange(part);
        }

        return EtcdPageParser.Unique(entries, malformed);
    }

    /// <summary>Ranges read at once by a snapshot (etcd serves concurrent reads of one revision); 4 by default,
    /// <c>FASTPATH_ETCD_SNAPSHOT_PARALLELISM</c> (1..16) sets it for benchmarks (1 = one chain of pages, as before).</summary>
    internal static readonly int SnapshotParallelism =
        int.TryParse(Environment.GetEnvironmentVariable("FASTPATH_ETCD_SNAPSHOT_PARALLELISM"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n) && n is >= 1 and <= 16 ? n : 4;

    /// <summary>
    /// Disjoint ranges covering every key under <paramref name="prefix"/>: one per first byte '0'..'9' (a tenant's
    /// first digit), and the rest below '0' and from ':' up (the retired marker, and malformed keys, which are
    /// still read so they are counted).
    /// </summary>
    internal static (ByteString From, ByteString End)[] SnapshotRanges(string prefix)
    {
        byte[] head = Encoding.UTF8.GetBytes(prefix);
        ByteString At(byte next) => ByteString.CopyFrom([.. head, next]);
        var ranges = new List<(ByteString, ByteString)> { (ByteString.CopyFrom(head), At((byte)'0')) };
        for (byte digit = (byte)'0'; digit <= '9'; digit++)
        {
            ranges.Add((At(digit), At((byte)(digit + 1))));
        }

        ranges.Add((At((byte)':'), EtcdKeys.RangeEnd(prefix)));
        return [.. ranges];
    }

    private async Task<List<MappingEntry>> LoadRangeAsync(ByteString from, ByteString end, int prefixLength, long revision, Action<string, string> malformed, CancellationToken cancellation)
    {
        var entries = new List<MappingEntry>();
        while (true)
        {
            RangeResponse page = await PageAsync(new RangeRequest { Key = from, RangeEnd = end, Revision = revision, Limit = PageSize, Serializable = true }, cancellation).ConfigureAwait(false);
            EtcdPageParser.Parse(page.Kvs, prefixLength, entries, malformed);
            if (!page.More || page.Kvs.Count == 0)
            {
                return entries;
            }

            byte[] last = page.Kvs[^1].Key.ToByteArray();
            from = ByteString.CopyFrom([.. last, 0]);
        }
    }

    /// <summary>
    /// One snapshot page, served by the member from its own store (serializable: no ReadIndex round through the leader
    /// per page). A revision that is pinned is immutable, so any member that has applied it answers the same; the
    /// member that gave us the revision has. Only a member we moved to after a failure may not have applied it yet: it
    /// says "future revision", and that page is asked again as a linearizable read, which waits until it has.
    /// </summary>
    private async Task<RangeResponse> PageAsync(RangeRequest request, CancellationToken cancellation)
    {
        try
        {
            return await connection.RangeAsync(request, cancellation).ConfigureAwait(false);
        }
        catch (Grpc.Core.RpcException error) when (IsFutureRevision(error))
        {
            request.Serializable = false;
            return await connection.RangeAsync(request, cancellation).ConfigureAwait(false);
        }
    }

    /// <summary>etcd's answer to a read at a revision the member has not applied (OutOfRange, like a compacted one).</summary>
    internal static bool IsFutureRevision(Grpc.Core.RpcException error) =>
        error.StatusCode == Grpc.Core.StatusCode.OutOfRange && error.Status.Detail.Contains("future revision", StringComparison.Ordinal);

    /// <summary>Requests etcd to compact its history up to <paramref name="revision"/> (operators and tests).</summary>
    public async Task CompactAsync(long revision, CancellationToken cancellation) =>
        await connection.CallAsync((invoker, options) => new KV.KVClient(invoker).CompactAsync(new CompactionRequest { Revision = revision, Physical = true }, options).ResponseAsync, cancellation).ConfigureAwait(false);

    private async Task WriteChunkAsync(TxnRequest txn, SemaphoreSlim slots, CancellationToken cancellation)
    {
        try
        {
            await connection.TxnAsync(txn, cancellation).ConfigureAwait(false);
        }
        finally
        {
            slots.Release();
        }
    }

    private Task DeleteGenerationAsync(string generation, CancellationToken cancellation)
    {
        string prefix = EtcdKeys.GenerationPrefix(Prefix, generation);
        var request = new DeleteRangeRequest { Key = EtcdKeys.Bytes(prefix), RangeEnd = EtcdKeys.RangeEnd(prefix) };
        return connection.CallAsync((invoker, options) => new KV.KVClient(invoker).DeleteRangeAsync(request, options).ResponseAsync, cancellation);
    }

    private Compare GenerationUnchanged(EtcdGeneration generation) => generation.Exists
        ? new Compare { Key = EtcdKeys.Bytes(EtcdKeys.GenerationKey(Prefix)), Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = EtcdKeys.Bytes(generation.Id) }
        : new Compare { Key = EtcdKeys.Bytes(EtcdKeys.GenerationKey(Prefix)), Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Equal, Version = 0 };

    private static bool SameGeneration(RangeResponse response, EtcdGeneration generation) =>
        response.Kvs.Count == 0 ? !generation.Exists : generation.Exists && response.Kvs[0].Value.ToStringUtf8() == generation.Id;

    private static RequestOp Put(ByteString key, string value) => new() { RequestPut = new PutRequest { Key = key, Value = EtcdKeys.Bytes(value) } };

    private static RequestOp Get(ByteString key) => new() { RequestRange = new RangeRequest { Key = key } };

    // The secure address in a user key's value, for a refusal message (the value is shown as is if it is not an entry).
    private static string Secure(ByteString value)
    {
        string text = value.ToStringUtf8();
        const string Field = "\"secure\":\"";
        int at = text.IndexOf(Field, StringComparison.Ordinal);
        int end = at < 0 ? -1 : text.IndexOf('"', at + Field.Length);
        return end < 0 ? text : text[(at + Field.Length)..end];
    }
}
