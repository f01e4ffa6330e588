using System.Globalization;
using System.Text;
using Etcdserverpb;
using FastPath.Dataplane.Mapping;
using Grpc.Core;
using Mvccpb;

namespace FastPath.Control.Maps.Etcd;

/// <summary>
/// Keeps a daemon's mapping table equal to its fleet's maps in etcd: one snapshot at one revision, then a watch from
/// the next revision whose puts and deletes go through the table's single-entry publish path (as <c>map add</c>/<c>del</c>);
/// a generation switch, a compaction past the table's revision, or the first load swap the whole table atomically.
/// Workers never wait on etcd: they read the table, which only this follower writes.
/// </summary>
/// <remarks>
/// Concurrency: one background task runs the loop; every table write holds the daemon's map-writer semaphore;
/// <see cref="Status"/> is an immutable record swapped whole and may be read from any thread.
/// Faults: a member that fails moves the watch to the next one and the watch resumes at the applied revision + 1
/// (back-off 100 ms doubling to 5 s); a compacted revision takes a new snapshot; a changed cluster id stops the follower
/// with its reason (the table is kept as it is); a malformed key is skipped, counted and logged with its key.
/// </remarks>
public sealed class EtcdMapFollower : IDisposable
{
    private static readonly TimeSpan s_progressEvery = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_backoffLimit = TimeSpan.FromSeconds(5);
    private const int MaxLoggedMalformed = 100;

    private readonly EtcdConnection _connection;
    private readonly EtcdMapStore _store;
    private readonly MappingTable _table;
    private readonly SemaphoreSlim _writer;
    private readonly TextWriter _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _statusLock = new();
    private EtcdFollowerStatus _status;
    private Task? _loop;
    private long _malformed;

    /// <summary>A follower writing into <paramref name="table"/> under <paramref name="writer"/>; nothing runs before <see cref="Start"/>.</summary>
    public EtcdMapFollower(EtcdConnection connection, MappingTable table, SemaphoreSlim writer, TextWriter log)
    {
        _connection = connection;
        _store = new EtcdMapStore(connection);
        _table = table;
        _writer = writer;
        _log = log;
        _status = new EtcdFollowerStatus(false, 0, 0, string.Empty, connection.CurrentEndpoint.ToString(), 0, 0, 0, 0, 0, null, null);
    }

    /// <summary>The follower's state now.</summary>
    public EtcdFollowerStatus Status
    {
        get
        {
            lock (_statusLock)
            {
                return _status;
            }
        }
    }

    /// <summary>Raised after each change the table took from etcd (the daemon counts updates).</summary>
    public event Action? Applied;

    /// <summary>
    /// Loads the first snapshot (waiting at most <paramref name="firstLoad"/> for etcd to answer; a large snapshot then
    /// loads to its end), then follows in the background. Returns the mappings loaded, or -1 when etcd did not answer in
    /// time: the table stays empty and the loop keeps trying.
    /// </summary>
    public int Start(TimeSpan firstLoad)
    {
        int loaded = -1;
        using (var first = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
        {
            first.CancelAfter(firstLoad);
            try
            {
                loaded = Task.Run(() => SnapshotAsync(first.Token)).GetAwaiter().GetResult();
            }
            catch (Exception error) when (error is RpcException or OperationCanceledException or HttpRequestException or IOException)
            {
                Fail(error);
                _log.WriteLine($"fastpath: etcd: no snapshot within {firstLoad.TotalSeconds:0.#} s ({Status.LastError}); starting with an empty table and retrying");
            }
            catch (EtcdClusterChangedException error)
            {
                Refuse(error.Message);
            }
        }

        _loop = Task.Factory.StartNew(() => LoopAsync(loaded < 0), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        return loaded;
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) until the table holds <paramref name="revision"/>.</summary>
    public async Task<bool> WaitForRevisionAsync(long revision, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (Status.Revision < revision)
        {
            if (Environment.TickCount64 > deadline || Status.Refused is not null)
            {
                return false;
            }

            await Task.Delay(2).ConfigureAwait(false);
        }

        return true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _loop?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        _stop.Dispose();
    }

    private async Task LoopAsync(bool needSnapshot)
    {
        TimeSpan backoff = TimeSpan.FromMilliseconds(100);
        while (!_stop.IsCancellationRequested && Status.Refused is null)
        {
            try
            {
                if (needSnapshot)
                {
                    await SnapshotAsync(_stop.Token).ConfigureAwait(false);
                }

                needSnapshot = await WatchAsync(() => backoff = TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (EtcdClusterChangedException error)
            {
                Refuse(error.Message);
                return;
            }
            catch (EtcdCompactedException error)
            {
                _log.WriteLine($"fastpath: etcd: {error.Message}; taking a new snapshot");
                needSnapshot = true;
            }
            catch (Exception error) when (error is RpcException or HttpRequestException or IOException or InvalidOperationException or OperationCanceledException)
            {
                bool wasUp = Status.Up || Status.LastError is null;
                Fail(error);
                if (wasUp)
                {
                    _log.WriteLine($"fastpath: etcd: {_connection.CurrentEndpoint}: {Status.LastError}; forwarding with the current table, retrying");
                }

                _connection.Rotate();
                try
                {
                    await Task.Delay(backoff, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, s_backoffLimit.Ticks));
            }
        }
    }

    /// <summary>
    /// Loads the current generation at etcd's head revision and swaps the table; returns its size.
    /// <paramref name="reach"/> bounds reaching etcd (the first read); once etcd answered, the load runs to its end.
    /// </summary>
    private async Task<int> SnapshotAsync(CancellationToken reach)
    {
        EtcdGeneration generation = await _store.GenerationAsync(0, reach).ConfigureAwait(false);
        CheckCluster(generation.ClusterId);
        return await LoadAsync(generation.Id, generation.Revision, _stop.Token).ConfigureAwait(false);
    }

    private async Task<int> LoadAsync(string generation, long revision, CancellationToken cancellation)
    {
        List<MappingEntry> entries;
        try
        {
            entries = await _store.LoadAsync(generation, revision, Malformed, cancellation).ConfigureAwait(false);
        }
        catch (RpcException error) when (error.StatusCode == StatusCode.OutOfRange)
        {
            throw new EtcdCompactedException($"revision {revision} is compacted ({error.Status.Detail})");
        }

        await _writer.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            MapsPublisher.Replace(_table, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(entries));
        }
        finally
        {
            _writer.Release();
        }

        Update(s => s with { Revision = revision, HeadRevision = Math.Max(s.HeadRevision, revision), Generation = generation, Snapshots = s.Snapshots + 1 });
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fastpath: etcd: loaded {entries.Count} mapping(s) of generation {generation} at revision {revision}"));
        Applied?.Invoke();
        return entries.Count;
    }

    /// <summary>Watches the current generation from the applied revision + 1; returns true when a new snapshot is needed.</summary>
    private async Task<bool> WatchAsync(Action connected)
    {
        EtcdFollowerStatus start = Status;
        string prefix = EtcdKeys.UserPrefix(_connection.Config.Prefix, start.Generation);
        using var streamStop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        // "hasleader": a member cut off from the quorum cancels the watch instead of keeping it silent.
        using AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call = new Watch.WatchClient(_connection.Channel)
            .Watch(new Metadata { { "hasleader", "true" } }, cancellationToken: streamStop.Token);
        await call.RequestStream.WriteAsync(new WatchRequest
        {
            CreateRequest = new WatchCreateRequest { Key = EtcdKeys.Bytes(prefix), RangeEnd = EtcdKeys.RangeEnd(prefix), StartRevision = start.Revision + 1 },
        }, streamStop.Token).ConfigureAwait(false);
        Task progress = ProgressAsync(call.RequestStream, streamStop.Token);
        try
        {
            while (await call.ResponseStream.MoveNext(streamStop.Token).ConfigureAwait(false))
            {
                WatchResponse response = call.ResponseStream.Current;
                CheckCluster(response.Header.ClusterId);
                if (!Status.Up)
                {
                    bool reconnect = Status.LastError is not null;
                    Update(s => s with { Up = true, Endpoint = _connection.CurrentEndpoint.ToString(), Reconnects = s.Reconnects + (reconnect ? 1 : 0) });
                    connected();
                    if (reconnect)
                    {
                        _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fastpath: etcd: watching again through {_connection.CurrentEndpoint} from revision {start.Revision + 1}"));
                    }
                }

                if (response.CompactRevision > 0)
                {
                    throw new EtcdCompactedException(string.Create(CultureInfo.InvariantCulture, $"history compacted to revision {response.CompactRevision}, past the table's revision {Status.Revision}"));
                }

                if (response.Canceled)
                {
                    throw new InvalidOperationException("watch cancelled by etcd: " + (response.CancelReason.Length > 0 ? response.CancelReason : "no reason given"));
                }

                if (response.Created)
                {
                    continue;
                }

                if (response.Events.Count == 0)
                {
                    // A progress answer: every change up to the header's revision has been delivered.
                    long head = response.Header.Revision;
                    Update(s => s with { Revision = Math.Max(s.Revision, head), HeadRevision = Math.Max(s.HeadRevision, head) });
                    continue;
                }

                if (await ApplyAsync(response, prefix.Length).ConfigureAwait(false) is (string next, long at))
                {
                    _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fastpath: etcd: generation {Status.Generation} replaced by {next} at revision {at}"));
                    await LoadAsync(next, at, _stop.Token).ConfigureAwait(false);
                    return false;
                }
            }

            throw new InvalidOperationException("the watch stream ended");
        }
        finally
        {
            await streamStop.CancelAsync().ConfigureAwait(false);
            try
            {
                await progress.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The stream is gone; its progress writer's failure says nothing more.
            }
        }
    }

    /// <summary>Applies one response's events; returns the next generation and its revision when the current one was retired.</summary>
    private async Task<(string Next, long At)?> ApplyAsync(WatchResponse response, int prefixLength)
    {
        (string, long)? retired = null;
        long revision = 0;
        int applied = 0;
        await _writer.WaitAsync(_stop.Token).ConfigureAwait(false);
        try
        {
            foreach (Event change in response.Events)
            {
                string key = change.Kv.Key.ToStringUtf8();
                string name = key.Length > prefixLength ? key[prefixLength..] : string.Empty;
                if (name == EtcdKeys.RetiredName)
                {
                    if (change.Type == Event.Types.EventType.Put)
                    {
                        retired = (change.Kv.Value.ToStringUtf8(), change.Kv.ModRevision);
                        break;
                    }

                    continue;
                }

                revision = change.Kv.ModRevision;
                if (!EtcdKeys.TryParseUserName(name, out MappingKey user, out string why))
                {
                    Malformed(key, "key: " + why);
                    continue;
                }

                if (change.Type == Event.Types.EventType.Delete)
                {
                    applied += _table.Remove(user) ? 1 : 0;
                    continue;
                }

                if (EtcdKeys.ParseValue(key, change.Kv.Value.Span, user, out why) is not MappingEntry entry)
                {
                    Malformed(key, why);
                    continue;
                }

                MappingAddResult result = _table.Add(entry, out MappingEntry existing);
                if (result == MappingAddResult.DuplicateUser && existing != entry)
                {
                    // A user key written again with another secure address: the newer value wins.
                    _table.Remove(entry.User);
                    result = _table.Add(entry, out existing);
                }

                if (result == MappingAddResult.DuplicateSecure)
                {
                    Malformed(key, $"secure address {entry.Secure.ToAddress()} is mapped from (tenant {existing.User.Tenant}, {existing.User.ToAddress()}) already");
                    continue;
                }

                applied++;
            }
        }
        finally
        {
            _writer.Release();
        }

        long last = revision;
        Update(s => s with { Revision = Math.Max(s.Revision, last), HeadRevision = Math.Max(Math.Max(s.HeadRevision, last), response.Header.Revision), Applied = s.Applied + applied });
        if (applied > 0)
        {
            Applied?.Invoke();
        }

        return retired;
    }

    private static async Task ProgressAsync(IClientStreamWriter<WatchRequest> requests, CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            await Task.Delay(s_progressEvery, cancellation).ConfigureAwait(false);
            await requests.WriteAsync(new WatchRequest { ProgressRequest = new WatchProgressRequest() }, cancellation).ConfigureAwait(false);
        }
    }

    private void CheckCluster(ulong clusterId)
    {
        ulong known = Status.ClusterId;
        if (known == 0)
        {
            Update(s => s with { ClusterId = clusterId });
        }
        else if (clusterId != 0 && clusterId != known)
        {
            throw new EtcdClusterChangedException(string.Create(CultureInfo.InvariantCulture,
                $"etcd at {_connection.CurrentEndpoint} is cluster {clusterId:x16}, not {known:x16} that this table came from; not following it (the table is kept; restart the daemon to follow the new cluster)"));
        }
    }

    private void Malformed(string key, string why)
    {
        long count = Interlocked.Increment(ref _malformed);
        Update(s => s with { Malformed = count });
        if (count <= MaxLoggedMalformed)
        {
            _log.WriteLine($"fastpath: etcd: {key}: skipped: {why}{(count == MaxLoggedMalformed ? " (further malformed keys are counted, not logged)" : string.Empty)}");
        }
    }

    private void Fail(Exception error) => Update(s => s with { Up = false, LastError = EtcdConnection.Describe(error) });

    private void Refuse(string why)
    {
        Update(s => s with { Up = false, Refused = why, LastError = why });
        _log.WriteLine("fastpath: etcd: " + why);
    }

    private void Update(Func<EtcdFollowerStatus, EtcdFollowerStatus> change)
    {
        lock (_statusLock)
        {
            _status = change(_status);
        }
    }
}
