using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Text;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Protocol;
using FastPath.Vtpm.State;

namespace FastPath.Vtpm.Pair;

/// <summary>Status: the status endpoint's and the daemon's JSON, both digests, and the divergence test hook.</summary>
public sealed partial class PairController
{
    /// <summary>The status snapshot served on P+2 (JSON, one line).</summary>
    public string StatusJson()
    {
        PairMember? master = PickMaster();
        var text = new StringBuilder();
        text.Append("{\"members\":[");
        for (int i = 0; i < _members.Length; i++)
        {
            PairMember m = _members[i];
            string role = !m.Live ? "down" : ReferenceEquals(m, master) ? "master" : "slave";
            text.Append(i == 0 ? "" : ",")
                .Append($"{{\"name\":\"{m.Name}\",\"kind\":\"{m.Instance.Kind}\",\"role\":\"{role}\",\"pid\":{m.ProcessId},\"outstanding\":{m.Outstanding},")
                .Append(System.Globalization.CultureInfo.InvariantCulture, $"\"serviceMicros\":{m.EwmaMicros:F1},\"reads\":{Interlocked.Read(ref m.Reads)},\"writes\":{Interlocked.Read(ref m.Writes)},")
                .Append($"\"divergences\":{Interlocked.Read(ref m.Divergences)},\"restarts\":{Interlocked.Read(ref m.Restarts)},")
                .Append(System.Globalization.CultureInfo.InvariantCulture, $"\"persist\":{PersistenceJson(m)}}}");
        }

        string last = _lastResync is { } at ? $"\"{at:O}\"" : "null";
        text.Append($"],\"durability\":\"{(_durability == PairDurability.Sync ? "sync" : "pair")}\",\"failovers\":{Interlocked.Read(ref _failovers)},\"resyncs\":{Interlocked.Read(ref _resyncs)},\"handovers\":{Interlocked.Read(ref _handovers)},\"lag\":{Interlocked.Read(ref _lag)},")
            .Append(System.Globalization.CultureInfo.InvariantCulture, $"\"lastResync\":{last},\"lastResyncMs\":{_lastResyncMilliseconds:F1}}}");
        return text.ToString();
    }

    /// <summary>An instance's durable saves and persistence lag (ms), or null (down, swtpm, or not answering now:
    /// a status request never fails an instance).</summary>
    private static string PersistenceJson(PairMember member)
    {
        if (!member.Live)
        {
            return "null";
        }

        try
        {
            return member.Instance.Persistence() is { } p
                ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{{\"saves\":{p.Saves},\"lastMs\":{p.LastMs:F2},\"maxMs\":{p.MaxMs:F2}}}")
                : "null";
        }
        catch (Exception exception) when (exception is IOException or System.Net.Sockets.SocketException or InvalidDataException or ObjectDisposedException or InstanceFailedException)
        {
            return "null";
        }
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
