using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using FastPath.Testing;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Cli.Tests.Daemon;

/// <summary>
/// <c>fastpath run</c> with <c>"vtpm": { "mode": "pair" }</c>: the daemon runs the high-availability pair (two
/// instance processes of its own binary, libtpms embedded), TPM commands and the nine real-client operations work on the configured port, <c>fastpath vtpm status</c>
/// shows both roles, stats name the pair, and SIGTERM stops the instances with the daemon.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class DaemonVtpmPairTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_daemon_serves_the_vtpm_pair_and_stops_its_instances_on_sigterm()
    {
        int port = FreePorts.Pair();
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, $$"""
            {
              "workers": 1,
              "ports": { "u0": { "type": "sink" }, "s0": { "type": "sink" } },
              "pairs": [ { "user": "u0", "secure": "s0" } ],
              "vtpm": { "mode": "pair", "port": {{port}}, "state": "vtpm", "durability": "sync" }
            }
            """);
        int[] instances;
        using (DaemonProcess daemon = DaemonProcess.Start(config, "unix:" + _dir.File("control.sock")))
        {
            // TPM2_Startup(CLEAR), then TPM2_GetRandom(16): RANDOM, so both instances run it.
            Assert.Equal(0u, Send(port, [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x44, 0, 0]).Code);
            (uint code, byte[] random) = Send(port, [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0, 16]);
            Assert.Equal(0u, code);
            Assert.Equal(16, BinaryPrimitives.ReadUInt16BigEndian(random.AsSpan(10)));

            // The nine client operations (clevis, tpm2-openssl, tpm2-tools, tpm2-pytss) on the daemon's pair.
            using (var clients = new TpmClients(port))
            {
                IReadOnlyList<string> failures = clients.RunAll();
                Assert.True(failures.Count == 0, string.Join("\n", failures));
            }

            // Through the daemon's control socket (ARCHITECTURE: vtpm status "through the daemon"), and the same pair on its status socket.
            JsonElement status = JsonDocument.Parse(daemon.Cli("vtpm", "status", "--json").EnsureSuccess().StandardOutput).RootElement;
            JsonElement direct = JsonDocument.Parse(FastpathProcess.Run("vtpm", "status", "--state", _dir.File("vtpm"), "--json").EnsureSuccess().StandardOutput).RootElement;
            Assert.Equal(
                direct.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("pid").GetInt32()).Order(),
                status.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("pid").GetInt32()).Order());
            string[] roles = [.. status.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("role").GetString()!).Order()];
            Assert.Equal(["master", "slave"], roles);
            Assert.Equal("sync", status.GetProperty("durability").GetString());
            instances = [.. status.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("pid").GetInt32())];

            // A forced failover through the daemon: the master is dropped, restarts, resyncs and rejoins.
            ProcessResult failover = daemon.Cli("vtpm", "failover");
            Assert.True(failover.ExitCode == 0, failover.StandardError);
            Assert.Contains("\"dropped\"", failover.StandardOutput, StringComparison.Ordinal);
            JsonElement after = default;
            for (int i = 0; i < 300; i++)
            {
                after = JsonDocument.Parse(daemon.Cli("vtpm", "status", "--json").EnsureSuccess().StandardOutput).RootElement;
                if (after.GetProperty("failovers").GetInt64() == 1 && after.GetProperty("members").EnumerateArray().All(m => m.GetProperty("role").GetString() != "down"))
                {
                    break;
                }

                Thread.Sleep(100);
            }

            Assert.True(after.GetProperty("failovers").GetInt64() == 1, after.GetRawText());
            Assert.All(after.GetProperty("members").EnumerateArray(), m => Assert.NotEqual("down", m.GetProperty("role").GetString()));
            instances = [.. after.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("pid").GetInt32())];
            (uint again, _) = Send(port, [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0, 16]);
            Assert.Equal(0u, again);

            JsonElement stats = JsonDocument.Parse(daemon.Cli("stats", "--json").EnsureSuccess().StandardOutput).RootElement;
            Assert.Equal($"pair 127.0.0.1:{port}", stats.GetProperty("vtpm").GetProperty("state").GetString());
            JsonElement pairInStats = stats.GetProperty("vtpm").GetProperty("pair");
            Assert.Equal(instances.Order(), pairInStats.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("pid").GetInt32()).Order());
            Assert.Equal("sync", pairInStats.GetProperty("durability").GetString());
            Assert.Equal(0, daemon.Stop(TimeSpan.FromSeconds(30)));
        }

        foreach (int pid in instances)
        {
            Assert.False(IsRunning(pid), $"vTPM instance {pid} outlived the daemon");
        }
    }

    private static (uint Code, byte[] Response) Send(int port, byte[] command)
    {
        using var client = new TcpClient("127.0.0.1", port);
        NetworkStream stream = client.GetStream();
        stream.ReadTimeout = 30_000;
        stream.Write(command);
        byte[] header = new byte[10];
        stream.ReadExactly(header);
        byte[] response = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(2))];
        header.CopyTo(response, 0);
        stream.ReadExactly(response.AsSpan(10));
        return (BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(6)), response);
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using Process process = Process.GetProcessById(pid);
            return !process.HasExited && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
