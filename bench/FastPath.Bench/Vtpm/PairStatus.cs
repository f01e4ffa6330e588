using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace FastPath.Bench.Vtpm;

/// <summary>One answer of the pair's status endpoint (127.0.0.1:P+2, one line <c>status</c> in, one JSON line
/// out), reduced to what the harnesses use: each member's name, role, PID and counters, plus the pair's
/// failover and resync counts.</summary>
/// <remarks>Immutable snapshot; <see cref="Query"/> is safe from any thread (one connection per call).</remarks>
internal sealed class PairStatus
{
    private PairStatus(string json)
    {
        Json = json;
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;
        foreach (JsonElement member in root.GetProperty("members").EnumerateArray())
        {
            Members.Add(new Member(
                member.GetProperty("name").GetString() ?? "",
                member.GetProperty("role").GetString() ?? "",
                member.GetProperty("pid").GetInt32(),
                member.GetProperty("reads").GetInt64(),
                member.GetProperty("writes").GetInt64(),
                member.GetProperty("restarts").GetInt64(),
                PersistMaxMs(member)));
        }

        Failovers = root.GetProperty("failovers").GetInt64();
        Resyncs = root.GetProperty("resyncs").GetInt64();
    }

    public string Json { get; }

    public List<Member> Members { get; } = [];

    public long Failovers { get; }

    public long Resyncs { get; }

    /// <summary>True when no member is "down".</summary>
    public bool BothLive => Members.TrueForAll(m => m.Role != "down");

    /// <summary>The first member with <paramref name="role"/>, or null.</summary>
    public Member? WithRole(string role) => Members.Find(m => m.Role == role);

    public Member? Named(string name) => Members.Find(m => m.Name == name);

    /// <summary>Asks the status socket of the pair whose state is in <paramref name="stateDirectory"/>
    /// (STATE/status.sock); every wait is bounded by 10 s.</summary>
    public static PairStatus Query(string stateDirectory)
    {
        string path = Path.Combine(stateDirectory, "status.sock");
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        client.SendTimeout = 10_000;
        client.ReceiveTimeout = 10_000;
        client.Connect(new UnixDomainSocketEndPoint(path));
        using var stream = new NetworkStream(client, ownsSocket: false);
        stream.Write("status\n"u8);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string line = reader.ReadLine() ?? throw new IOException($"the status socket {path} closed without answering");
        return new PairStatus(line);
    }

    /// <summary>The longest a change waited for this member's disk so far (ms), or null when not reported.</summary>
    private static double? PersistMaxMs(JsonElement member) =>
        member.TryGetProperty("persist", out JsonElement persist) && persist.ValueKind == JsonValueKind.Object
            ? persist.GetProperty("max_ms").GetDouble()
            : null;

    /// <summary>One member of the pair as the status endpoint reports it.</summary>
    internal sealed record Member(string Name, string Role, int Pid, long Reads, long Writes, long Restarts, double? PersistMaxMs);
}
