using System.Text.Json;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Ports.Segmentation;

/// <summary>One case of gso_cases.py: a super-frame, its segment size, and every segment scapy built for it.</summary>
internal sealed record GsoCase(string Name, int Mss, byte[] Input, IReadOnlyList<byte[]> Segments)
{
    /// <summary>Runs the scapy script and reads its cases.</summary>
    public static IReadOnlyList<GsoCase> Load()
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Ports", "Segmentation", "gso_cases.py");
        string text = ProcessRunner.Run(Scapy.Python, [script], TimeSpan.FromMinutes(2)).EnsureSuccess().StandardOutput;
        var cases = new List<GsoCase>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using JsonDocument document = JsonDocument.Parse(line);
            JsonElement root = document.RootElement;
            cases.Add(new GsoCase(
                root.GetProperty("name").GetString()!,
                root.GetProperty("mss").GetInt32(),
                Convert.FromHexString(root.GetProperty("input").GetString()!),
                root.GetProperty("segments").EnumerateArray().Select(s => Convert.FromHexString(s.GetString()!)).ToArray()));
        }

        return cases;
    }
}
