using System.Diagnostics;
using System.Net;
using System.Text.Json;
using FastPath.Control.ControlSocket;
using FastPath.Control.Maps;
using FastPath.Control.Maps.Etcd;
using FastPath.Dataplane.Mapping;
using Grpc.Core;

namespace FastPath.Control;

/// <summary>
/// Fleet maps (README "Fleet"): with <c>"maps": {"etcd": {...}}</c> the table follows etcd (<see cref="EtcdMapFollower"/>)
/// and <c>map.add</c>, <c>map.del</c> and <c>map.import</c> write to etcd; a write returns once this daemon's own table
/// holds it (or after <see cref="s_ownApplyLimit"/>, saying so).
/// </summary>
public sealed partial class Daemon
{
    private static readonly TimeSpan s_firstLoadLimit = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan s_ownApplyLimit = TimeSpan.FromSeconds(10);

    private EtcdConnection? _fleet;
    private EtcdMapFollower? _follower;

    private static bool IsFleetVerb(string verb) => verb is "map.add" or "map.del" or "map.import" or "maps.reload";

    /// <summary>Connects to etcd and loads the first snapshot; returns its size (0 without fleet maps or without etcd yet).</summary>
    private int StartFleet()
    {
        if (_config.MapsEtcd is not { } etcd)
        {
            return 0;
        }

        _fleet = new EtcdConnection(etcd);
        _follower = new EtcdMapFollower(_fleet, _table, _mapWriter, _log);
        _follower.Applied += () => Interlocked.Increment(ref _mapUpdates);
        return Math.Max(0, _follower.Start(s_firstLoadLimit));
    }

    private void StopFleet()
    {
        _follower?.Dispose();
        _follower = null;
        _fleet?.Dispose();
        _fleet = null;
    }

    private async Task<ControlReply> FleetAsync(string verb, JsonElement args, CancellationToken cancellation)
    {
        var store = new EtcdMapStore(_fleet!);
        try
        {
            switch (verb)
            {
                case "map.add":
                {
                    if (!TryReadEntry(args, out MappingEntry entry, out ControlReply? error))
                    {
                        return error!;
                    }

                    return await WrittenAsync(await store.AddAsync(entry, cancellation).ConfigureAwait(false), null).ConfigureAwait(false);
                }

                case "map.del":
                {
                    if (!TryReadKey(args, out int tenant, out IPAddress user, out ControlReply? error))
                    {
                        return error!;
                    }

                    return await WrittenAsync(await store.DeleteAsync(MappingKey.User(tenant, user), cancellation).ConfigureAwait(false), null).ConfigureAwait(false);
                }

                case "map.import":
                {
                    if (args.ValueKind != JsonValueKind.Object || !args.TryGetProperty("path", out JsonElement pathElement) || pathElement.ValueKind != JsonValueKind.String
                        || !Path.IsPathRooted(pathElement.GetString()))
                    {
                        return ControlReply.Error(ControlProtocol.BadRequest, "map.import needs args.path (the maps file, absolute)");
                    }

                    MappingEntry[] entries;
                    try
                    {
                        entries = await Task.Run(() => MapsFile.Load(pathElement.GetString()!), cancellation).ConfigureAwait(false);
                    }
                    catch (Exception error) when (error is InputFileException or IOException or UnauthorizedAccessException)
                    {
                        return ControlReply.Error(ControlProtocol.Refused, error.Message);
                    }

                    var time = Stopwatch.StartNew();
                    EtcdWriteResult result = await store.ImportAsync(entries, cancellation).ConfigureAwait(false);
                    return await WrittenAsync(result, time).ConfigureAwait(false);
                }

                default:
                    return ControlReply.Error(ControlProtocol.Refused, "this daemon's maps come from etcd (README \"Fleet\"); there is no maps file to reload");
            }
        }
        catch (RpcException error)
        {
            return ControlReply.Error(ControlProtocol.Refused, $"etcd: {EtcdConnection.Describe(error)} (nothing written)");
        }
        catch (InvalidOperationException error)
        {
            return ControlReply.Error(ControlProtocol.Refused, "etcd: " + error.Message);
        }
    }

    /// <summary>The reply to a write: refused with etcd's reason, or done once this daemon's table holds its revision.</summary>
    private async Task<ControlReply> WrittenAsync(EtcdWriteResult result, Stopwatch? import)
    {
        switch (result.Status)
        {
            case EtcdWriteStatus.Conflict:
                return ControlReply.Error(ControlProtocol.Refused, result.Message);
            case EtcdWriteStatus.NotFound:
                return ControlReply.Error(ControlProtocol.NotFound, result.Message);
        }

        bool applied = await _follower!.WaitForRevisionAsync(result.Revision, s_ownApplyLimit).ConfigureAwait(false);
        double seconds = import?.Elapsed.TotalSeconds ?? 0;
        return ControlReply.Ok(json =>
        {
            json.WriteNumber("mappings", import is null ? _table.Count : result.Count);
            json.WriteNumber("revision", result.Revision);
            json.WriteBoolean("applied_here", applied);
            if (import is not null)
            {
                json.WriteNumber("publish_seconds", Math.Round(seconds, 4));
            }
        });
    }
}
