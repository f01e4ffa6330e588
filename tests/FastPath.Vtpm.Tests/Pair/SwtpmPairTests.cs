using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FastPath.Testing;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Pair;

/// <summary>
/// The pair with two real swtpm (libtpms) instances behind our controller (`fastpath vtpm serve --instances
/// swtpm`): tpm2-tools runs unchanged and answers like a single swtpm; RANDOM commands run on the master and its
/// state is copied into the slave through GET/SET_STATEBLOB; a kill -9 of an instance during NV writes loses no
/// acknowledged write, and the restarted swtpm is resynced through SET_STATEBLOB. Forced failovers afterwards
/// make each replica serve alone, so the checks read both replicas' state, not just the master's.
/// </summary>
public sealed class SwtpmPairTests : IDisposable
{
    private const uint NvIndex = 0x1500030;
    private readonly TempDirectory _state = new();
    private readonly TempDirectory _files = new();

    public void Dispose()
    {
        _state.Dispose();
        _files.Dispose();
    }

    [Fact]
    public void Tpm2_tools_script_through_a_pair_of_swtpm_instances_matches_a_single_swtpm()
    {
        string data = Path.Combine(_files.Path, "data.bin");
        File.WriteAllBytes(data, Encoding.ASCII.GetBytes("swtpm-ha"));
        string[][] script =
        [
            ["tpm2_startup", "-c"],
            ["tpm2_pcrextend", "16:sha256=" + new string('7', 64)],
            ["tpm2_nvdefine", "0x1500016", "-C", "o", "-s", "8", "-a", "ownerread|ownerwrite"],
            ["tpm2_nvwrite", "0x1500016", "-C", "o", "-i", data],
            ["tpm2_nvread", "0x1500016", "-C", "o"],
            ["tpm2_getrandom", "16", "--hex"],
            ["tpm2_pcrread", "sha256:16"],
        ];
        string[] compared = ["tpm2_nvread", "tpm2_pcrread"];

        using var pair = new PairProcess(_state.Path, instances: "swtpm");
        using TpmServerProcess single = TpmServerProcess.StartSwtpm();
        var pairOutputs = new Dictionary<string, string>();
        foreach (string[] step in script)
        {
            ProcessResult throughPair = Tpm2Tools.Run(pair.Port, step[0], step[1..]).EnsureSuccess();
            ProcessResult throughSingle = Tpm2Tools.Run(single.Port, step[0], step[1..]).EnsureSuccess();
            if (compared.Contains(step[0]))
            {
                Assert.Equal(throughSingle.StandardOutput, throughPair.StandardOutput);
                pairOutputs[step[0]] = throughPair.StandardOutput;
            }

            if (step[0] == "tpm2_getrandom")
            {
                Assert.Equal(16, Convert.FromHexString(throughPair.StandardOutput.Trim()).Length);
            }
        }

        JsonElement status = pair.Status();
        Assert.All(status.GetProperty("members").EnumerateArray(), m => Assert.Equal("swtpm", m.GetProperty("kind").GetString()));
        Assert.Equal(0, status.GetProperty("failovers").GetInt64());
        Assert.Equal(0, status.GetProperty("members").EnumerateArray().Sum(m => m.GetProperty("divergences").GetInt64()));
        (string a, string b) = pair.Digests();
        Assert.Equal(a, b);

        // Each replica alone answers the same: the slave holds the NV write and the (volatile) PCR value too.
        for (int round = 0; round < 2; round++)
        {
            Assert.Equal(JsonValueKind.String, pair.Request("failover").GetProperty("dropped").ValueKind);
            foreach (string tool in compared)
            {
                string[] step = script.First(s => s[0] == tool);
                Assert.Equal(pairOutputs[tool], Tpm2Tools.Run(pair.Port, step[0], step[1..]).EnsureSuccess().StandardOutput);
            }

            pair.WaitBothLive();
        }
    }

    [Fact]
    public void Kill_9_of_a_swtpm_instance_during_nv_writes_loses_no_acknowledged_write_and_it_is_resynced_by_set_stateblob()
    {
        using var pair = new PairProcess(_state.Path, instances: "swtpm");
        Ok(RawTpmClient.Once(pair.Port, TpmCommand.StartupClear()));
        Ok(RawTpmClient.Once(pair.Port, TpmCommand.NvDefineOwner(NvIndex, 8)));
        long resyncsBefore = pair.Status().GetProperty("resyncs").GetInt64();

        const int kills = 3;
        using var stop = new CancellationTokenSource();
        ulong acknowledged = 0;
        byte[] model = new byte[32];
        Exception? failure = null;
        var writer = new Thread(() =>
        {
            try
            {
                for (ulong i = 1; !stop.IsCancellationRequested || i < 30; i++)
                {
                    byte[] value = new byte[8];
                    BinaryPrimitives.WriteUInt64BigEndian(value, i);
                    Ok(RawTpmClient.Once(pair.Port, TpmCommand.NvWriteOwner(NvIndex, value, 0)));
                    byte[] digest = SHA256.HashData(value);
                    Ok(RawTpmClient.Once(pair.Port, TpmCommand.PcrExtendSha256(16, digest)));
                    model = SHA256.HashData([.. model, .. digest]);
                    Volatile.Write(ref acknowledged, i);
                }
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                failure = exception;
            }
        });
        writer.Start();
        for (int kill = 0; kill < kills && failure is null; kill++)
        {
            pair.WaitBothLive();
            Thread.Sleep(Random.Shared.Next(20, 120));
            int pid = pair.Member(kill % 2 == 0 ? "master" : "slave").GetProperty("pid").GetInt32();
            using (Process victim = Process.GetProcessById(pid))
            {
                victim.Kill();
            }

            DateTime deadline = DateTime.UtcNow.AddSeconds(30);
            while (pair.Status().GetProperty("members").EnumerateArray().Any(m => m.GetProperty("pid").GetInt32() == pid && m.GetProperty("role").GetString() != "down"))
            {
                Assert.True(DateTime.UtcNow < deadline, $"the controller did not notice the kill of {pid}: {pair.Stderr}");
                Thread.Sleep(10);
            }
        }

        pair.WaitBothLive();
        stop.Cancel();
        writer.Join();
        Assert.True(failure is null, $"{failure} stderr={pair.Stderr}");
        ulong last = Volatile.Read(ref acknowledged);
        Assert.True(last >= 29, $"only {last} writes acknowledged");

        JsonElement status = pair.Status();
        Assert.True(status.GetProperty("failovers").GetInt64() >= kills, status.ToString());
        Assert.True(status.GetProperty("resyncs").GetInt64() >= resyncsBefore + kills, status.ToString());
        Assert.True(status.GetProperty("members").EnumerateArray().Sum(m => m.GetProperty("restarts").GetInt64()) >= kills, status.ToString());
        Assert.True(pair.StderrShows("resynced from"), $"no resync logged: {pair.Stderr}");

        // Both replicas, each serving alone in turn, hold the last acknowledged write and the model's PCR value.
        for (int round = 0; round < 2; round++)
        {
            byte[] read = RawTpmClient.Once(pair.Port, TpmCommand.NvReadOwner(NvIndex, 8, 0));
            Ok(read);
            Assert.Equal(last, BinaryPrimitives.ReadUInt64BigEndian(read.AsSpan(16, 8)));
            Assert.Equal(model, PcrValue(pair.Port, 16));
            pair.Request("failover");
            pair.WaitBothLive();
        }

        (string a, string b) = pair.Digests();
        Assert.Equal(a, b);
    }

    private static void Ok(byte[] response) => Assert.Equal(0u, RawTpmClient.Code(response));

    private static byte[] PcrValue(int port, uint pcr)
    {
        byte[] response = RawTpmClient.Once(port, TpmCommand.PcrReadSha256(pcr));
        Ok(response);

        // header(10) + updateCounter(4) + selection out (4 + 2 + 1 + 3) + count(4) + size(2) + digest.
        return response.AsSpan(response.Length - 32, 32).ToArray();
    }
}
