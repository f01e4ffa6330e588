using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Protocol;
using FastPath.Vtpm.State;

namespace FastPath.Vtpm.Pair;

/// <summary>Status: the status endpoint's and the daemon's JSON, both digests, and the divergence test hook.</summary>
public sealed partial class PairController
{
    /// <summary>The status snapshot served on P+2 and spliced into the daemon's <c>stats --json</c>: one line of
    /// JSON, snake_case keys, written with <see cref="Utf8JsonWriter"/> (names and kinds are escaped, numbers are
    /// invariant).</summary>
    public string StatusJson()
    {
        PairMember? master = PickMaster();
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("members");
            foreach (PairMember m in _members)
            {
                json.WriteStartObject();
                json.WriteString("name", m.Name);
                json.WriteString("kind", m.Instance.Kind);
                json.WriteString("role", !m.Live ? "down" : ReferenceEquals(m, master) ? "master" : "slave");
                json.WriteNumber("pid", m.ProcessId);
                json.WriteNumber("outstanding", m.Outstanding);
                json.WriteNumber("service_micros", Math.Round(m.EwmaMicros, 1));
                json.WriteNumber("reads", Interlocked.Read(ref m.Reads));
                json.WriteNumber("writes", Interlocked.Read(ref m.Writes));
                json.WriteNumber("divergences", Interlocked.Read(ref m.Divergences));
                json.WriteNumber("restarts", Interlocked.Read(ref m.Restarts));
                json.WritePropertyName("persist");
                WritePersistence(json, m);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteString("durability", _durability == PairDurability.Sync ? "sync" : "pair");
            json.WriteNumber("failovers", Interlocked.Read(ref _failovers));
            json.WriteNumber("resyncs", Interlocked.Read(ref _resyncs));
            json.WriteNumber("handovers", Interlocked.Read(ref _handovers));
            json.WriteNumber("lag", Interlocked.Read(ref _lag));
            if (_lastResync is { } at)
            {
                json.WriteString("last_resync", at);
            }
            else
            {
                json.WriteNull("last_resync");
            }

            json.WriteNumber("last_resync_ms", Math.Round(_lastResyncMilliseconds, 1));
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>An instance's durable saves and persistence lag (ms), or null (down, swtpm, or not answering now:
    /// a status request never fails an instance).</summary>
    private static void WritePersistence(Utf8JsonWriter json, PairMember member)
    {
        (long Saves, double LastMs, double MaxMs)? lag = null;
        if (member.Live)
        {
            try
            {
                lag = member.Instance.Persistence();
            }
            catch (Exception exception) when (exception is IOException or System.Net.Sockets.SocketException or InvalidDataException or ObjectDisposedException or InstanceFailedException)
            {
                lag = null;
            }
        }

        if (lag is not { } p)
        {
            json.WriteNullValue();
            return;
        }

        json.WriteStartObject();
        json.WriteNumber("saves", p.Saves);
        json.WriteNumber("last_ms", Math.Round(p.LastMs, 2));
        json.WriteNumber("max_ms", Math.Round(p.MaxMs, 2));
        json.WriteEndObject();
    }

    /// <summary>Both instances' state digests (hex; empty for an instance that is down).</summary>
    public async Task<string> DigestsJsonAsync()
    {
        var text = new StringBuilder("{");
        await _order.WaitAsync().ConfigureAwait(false);
        try
        {
            for (int i = 0; i < _members.Length; i++)
            {
                string hex = "";
                if (_members[i].Live)
                {
                    try
                    {
                        hex = Convert.ToHexString(_members[i].Digest());
                    }
                    catch (InstanceFailedException exception)
                    {
                        Fail(_members[i], exception.Message);
                    }
                }

                text.Append(i == 0 ? "" : ",").Append($"\"{_members[i].Name}\":\"{hex}\"");
            }
        }
        finally
        {
            _order.Release();
        }

        return text.Append('}').ToString();
    }

    /// <summary>Test hook (FASTPATH_VTPM_TEST_HOOKS=1): runs StirRandom on one instance only, so its DRBG
    /// silently differs from the other's, as a corrupted replica would.</summary>
    public async Task<bool> CorruptAsync(string name)
    {
        PairMember? member = _members.FirstOrDefault(m => m.Name == name && m.Live);
        if (member is null)
        {
            return false;
        }

        byte[] stir = [0x80, 0x01, 0, 0, 0, 0x10, 0, 0, 0x01, 0x46, 0, 4, 1, 2, 3, 4];
        await _order.WaitAsync().ConfigureAwait(false);
        try
        {
            InstanceConnection? link = TrySend(member, stir, 0, null);
            if (link is null || !TryReceive(member, link, out ExecuteAnswer result))
            {
                return false;
            }

            bool ok = BinaryPrimitives.ReadUInt32BigEndian(result.Response[6..]) == 0;
            member.Return(link);
            return ok;
        }
        finally
        {
            _order.Release();
        }
    }
}
