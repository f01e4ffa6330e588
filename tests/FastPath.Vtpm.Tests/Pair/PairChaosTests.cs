using System.Diagnostics;
using System.Globalization;
using FastPath.Testing;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Pair;

/// <summary>
/// Chaos on the default pair (libtpms instances): tpm2-tools streams NV writes (each under an HMAC session) and
/// key creations under a persistent SRK while a random instance is killed with SIGKILL 20 times. No command fails,
/// the NV index holds the last acknowledged value, keys created before the kills still load and sign (checked by
/// OpenSSL against their public keys), a quote made after the failovers verifies with the attestation key created
/// before them, and the pair converges (equal digests).
/// </summary>
public sealed class PairChaosTests : IDisposable
{
    private const string Srk = "0x81000001";
    private const string Index = "0x1500030";
    private readonly TempDirectory _state = new();
    private readonly TempDirectory _files = new();

    public void Dispose()
    {
        _state.Dispose();
        _files.Dispose();
    }

    [Fact]
    public void Kill_9_of_random_instances_during_hmac_nv_writes_and_key_creations_loses_nothing_acknowledged()
    {
        using var pair = new PairProcess(_state.Path, timeoutMilliseconds: 2000);
        Tool(pair, "tpm2_startup", "-c");
        Tool(pair, "tpm2_createprimary", "-C", "o", "-G", "ecc", "-c", "srk.ctx");
        Tool(pair, "tpm2_evictcontrol", "-C", "o", "-c", "srk.ctx", Srk);
        Tool(pair, "tpm2_flushcontext", "-t");
        Tool(pair, "tpm2_create", "-C", Srk, "-G", "ecc256:ecdsa-sha256:null", "-a", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign", "-u", "ak.pub", "-r", "ak.priv");
        Tool(pair, "tpm2_nvdefine", Index, "-C", "o", "-s", "8", "-a", "ownerread|ownerwrite");
        File.WriteAllText(_files.File("message"), "signed after a failover\n");

        const int kills = 20;
        using var stop = new CancellationTokenSource();
        long acknowledged = 0;
        var keys = new List<string>();
        Exception? failure = null;
        var writer = new Thread(() =>
        {
            try
            {
                for (long i = 1; !stop.IsCancellationRequested || i < 30; i++)
                {
                    string value = _files.File("value.bin");
                    File.WriteAllText(value, i.ToString("D8", CultureInfo.InvariantCulture));
                    Tool(pair, "tpm2_nvwrite", Index, "-C", "o", "-i", value);
                    Volatile.Write(ref acknowledged, i);
                    if (i % 4 == 0)
                    {
                        string key = "key" + i.ToString(CultureInfo.InvariantCulture);
                        Tool(pair, "tpm2_create", "-C", Srk, "-G", "ecc256", "-u", key + ".pub", "-r", key + ".priv");
                        lock (keys)
                        {
                            keys.Add(key);
                        }
                    }
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
            Thread.Sleep(Random.Shared.Next(50, 300));
            int pid = pair.Member(Random.Shared.Next(2) == 0 ? "master" : "slave").GetProperty("pid").GetInt32();
            using (Process victim = Process.GetProcessById(pid))
            {
                victim.Kill();
            }

            DateTime deadline = DateTime.UtcNow.AddSeconds(30);
            while (pair.Status().GetProperty("members").EnumerateArray().Any(m => m.GetProperty("pid").GetInt32() == pid && m.GetProperty("role").GetString() != "down"))
            {
                Assert.True(DateTime.UtcNow < deadline, "the controller did not notice the kill");
                Thread.Sleep(5);
            }
        }

        stop.Cancel();
        Assert.True(writer.Join(TimeSpan.FromMinutes(5)), "the client stream did not stop");
        Assert.True(failure is null, $"{failure}\npair stderr:\n{pair.Stderr}");
        Assert.True(pair.Status().GetProperty("failovers").GetInt64() >= kills);

        // 0 acknowledged writes lost: the index holds the last value the stream saw acknowledged.
        long last = Volatile.Read(ref acknowledged);
        Assert.Equal(last.ToString("D8", CultureInfo.InvariantCulture), Tool(pair, "tpm2_nvread", Index, "-C", "o").StandardOutput);

        // Keys created before (and between) the kills load and sign; OpenSSL checks each signature.
        Assert.NotEmpty(keys);
        foreach (string key in keys)
        {
            Tool(pair, "tpm2_load", "-C", Srk, "-u", key + ".pub", "-r", key + ".priv", "-c", key + ".ctx");
            Tool(pair, "tpm2_readpublic", "-c", key + ".ctx", "-f", "pem", "-o", key + ".pem");
            Tool(pair, "tpm2_sign", "-c", key + ".ctx", "-g", "sha256", "-f", "plain", "-o", key + ".sig", "message");
            Tool(pair, "tpm2_flushcontext", "-t");
            ProcessResult verify = ProcessRunner.Run("openssl", ["dgst", "-sha256", "-verify", key + ".pem", "-signature", key + ".sig", "message"], TimeSpan.FromSeconds(30), workingDirectory: _files.Path);
            Assert.True(verify.ExitCode == 0, $"{key}: {verify.StandardError}");
        }

        // A quote after the failovers verifies with the attestation key created before them.
        Tool(pair, "tpm2_load", "-C", Srk, "-u", "ak.pub", "-r", "ak.priv", "-c", "ak.ctx");
        Tool(pair, "tpm2_readpublic", "-c", "ak.ctx", "-f", "pem", "-o", "ak.pem");
        Tool(pair, "tpm2_quote", "-c", "ak.ctx", "-l", "sha256:0,7", "-q", "c0ffee", "-m", "quote.msg", "-s", "quote.sig", "-o", "quote.pcrs", "-g", "sha256");
        Tool(pair, "tpm2_checkquote", "-u", "ak.pem", "-m", "quote.msg", "-s", "quote.sig", "-f", "quote.pcrs", "-g", "sha256", "-q", "c0ffee");
        Tool(pair, "tpm2_flushcontext", "-t");

        (string a, string b) = pair.Digests();
        Assert.Equal(a, b);
    }

    private ProcessResult Tool(PairProcess pair, string tool, params string[] arguments) =>
        Tpm2Tools.Run(pair.Port, tool, arguments, workingDirectory: _files.Path).EnsureSuccess();
}
