using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using FastPath.Testing;
using FastPath.Vtpm.State;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Pair;

/// <summary>
/// The vTPM pair (<c>fastpath vtpm serve --state DIR</c>, both instances and the membership on one file system) on a
/// small tmpfs that fills up, driven by tpm2-tools over the swtpm TCTI: it starts (also from state files of the
/// older one-file format, whose first save needs new space), serves reads and random numbers, refuses changes with
/// TPM_RC_NV_UNAVAILABLE (0x923) without dropping an instance, accepts them again once space is freed, and a
/// restart finds every change it acknowledged: those acknowledged just before the disk filled too (the `pair`
/// durability answers before its write, which then failed and is retried).
/// </summary>
public sealed class PairFullDiskTests : IDisposable
{
    private readonly SmallFileSystem _mount = new("512k");


    public void Dispose() => _mount.Dispose();

    [Fact]
    public void A_full_file_system_refuses_changes_serves_reads_and_the_pair_loses_nothing_acknowledged()
    {
        string state = _mount.File("state");
        Directory.CreateDirectory(state);
        var acknowledged = new List<uint>();
        uint refused = 0;
        using (Process serve = StartPair(state))
        {
            var tcti = Tcti(state);
            Tool(tcti, "tpm2_startup", "-c").EnsureSuccess();
            Tool(tcti, "tpm2_nvdefine", "0x1500010", "-C", "o", "-s", "32", "-a", "ownerread|ownerwrite").EnsureSuccess();
            acknowledged.Add(0x1500010);

            _mount.Fill();

            // 1 KiB NV indexes grow the state until a save needs a page the file system does not have.
            for (uint index = 0x1500100; index < 0x1500140 && refused == 0; index++)
            {
                ProcessResult define = Tool(tcti, "tpm2_nvdefine", $"0x{index:x}", "-C", "o", "-s", "1024", "-a", "ownerread|ownerwrite");
                if (define.ExitCode == 0)
                {
                    acknowledged.Add(index);
                }
                else
                {
                    Assert.Contains("0x923", define.StandardError, StringComparison.Ordinal);
                    refused = index;
                }
            }

            Assert.NotEqual(0u, refused);

            // Reads, random numbers and a PCR extend (volatile) go on; the refused index does not exist.
            Tool(tcti, "tpm2_getrandom", "16", "--hex").EnsureSuccess();
            Tool(tcti, "tpm2_pcrread", "sha256:0").EnsureSuccess();
            Tool(tcti, "tpm2_pcrextend", "0:sha256=" + new string('1', 64)).EnsureSuccess();
            string handles = Tool(tcti, "tpm2_getcap", "handles-nv-index").EnsureSuccess().StandardOutput;
            Assert.All(acknowledged, index => Assert.Contains($"0x{index:X}", handles, StringComparison.OrdinalIgnoreCase));
            Assert.DoesNotContain($"0x{refused:X}", handles, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("0x923", Tool(tcti, "tpm2_nvdefine", $"0x{refused:x}", "-C", "o", "-s", "1024", "-a", "ownerread|ownerwrite").StandardError, StringComparison.Ordinal);
            Tool(tcti, "tpm2_getrandom", "16", "--hex").EnsureSuccess();

            // A refusal is not a divergence: both instances still serve, none was dropped or resynced.
            JsonElement status = Status(state);
            Assert.Equal(0, status.GetProperty("failovers").GetInt64());
            Assert.All(status.GetProperty("members").EnumerateArray(), m => Assert.NotEqual("down", m.GetProperty("role").GetString()));

            // Space freed: the same change now succeeds.
            _mount.Free();
            Tool(tcti, "tpm2_nvdefine", $"0x{refused:x}", "-C", "o", "-s", "1024", "-a", "ownerread|ownerwrite").EnsureSuccess();
            acknowledged.Add(refused);
            Stop(serve);
        }

        // A restart from disk has every acknowledged index.
        using Process again = StartPair(state);
        var againTcti = Tcti(state);
        Tool(againTcti, "tpm2_startup", "-c").EnsureSuccess();
        string after = Tool(againTcti, "tpm2_getcap", "handles-nv-index").EnsureSuccess().StandardOutput;
        Assert.All(acknowledged, index => Assert.Contains($"0x{index:X}", after, StringComparison.OrdinalIgnoreCase));
        Stop(again);
    }

    [Fact]
    public void A_pair_whose_files_an_older_build_wrote_starts_on_a_full_file_system()
    {
        string state = _mount.File("state");
        Directory.CreateDirectory(state);
        using (Process first = StartPair(state))
        {
            var tcti = Tcti(state);
            Tool(tcti, "tpm2_startup", "-c").EnsureSuccess();
            Tool(tcti, "tpm2_nvdefine", "0x1500020", "-C", "o", "-s", "32", "-a", "ownerread|ownerwrite").EnsureSuccess();
            Stop(first);
        }

        // The membership and both instances' states back in the one-file format (blob + SHA-256): the first save
        // of each must create a slot file, which needs space.
        foreach (string part in (string[])["pair", "a", "b"])
        {
            string directory = Path.Combine(state, part);
            byte[] blob;
            using (var store = new StateStore(directory))
            {
                blob = store.Load()!;
            }

            File.WriteAllBytes(Path.Combine(directory, StateStore.FileName), [.. blob, .. SHA256.HashData(blob)]);
            File.Delete(Path.Combine(directory, StateStore.Slot0FileName));
            File.Delete(Path.Combine(directory, StateStore.Slot1FileName));
        }

        _mount.Fill();
        using (Process serve = StartPair(state))
        {
            var tcti = Tcti(state);
            Tool(tcti, "tpm2_startup", "-c").EnsureSuccess();
            Tool(tcti, "tpm2_getrandom", "16", "--hex").EnsureSuccess();
            Assert.Contains("0x1500020", Tool(tcti, "tpm2_getcap", "handles-nv-index").EnsureSuccess().StandardOutput, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("0x923", Tool(tcti, "tpm2_nvdefine", "0x1500021", "-C", "o", "-s", "32", "-a", "ownerread|ownerwrite").StandardError, StringComparison.Ordinal);
            Assert.False(serve.HasExited);

            _mount.Free();
            Tool(tcti, "tpm2_nvdefine", "0x1500021", "-C", "o", "-s", "32", "-a", "ownerread|ownerwrite").EnsureSuccess();
            Stop(serve);
        }

        using Process again = StartPair(state);
        var againTcti = Tcti(state);
        Tool(againTcti, "tpm2_startup", "-c").EnsureSuccess();
        string after = Tool(againTcti, "tpm2_getcap", "handles-nv-index").EnsureSuccess().StandardOutput;
        Assert.Contains("0x1500020", after, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("0x1500021", after, StringComparison.OrdinalIgnoreCase);
        Stop(again);
    }

    private static Dictionary<string, string> Tcti(string state) => new() { ["TPM2TOOLS_TCTI"] = $"swtpm:path={Path.Combine(state, "vtpm.sock")}" };

    private static ProcessResult Tool(Dictionary<string, string> tcti, string tool, params string[] arguments) =>
        ProcessRunner.Run(tool, arguments, TimeSpan.FromSeconds(60), null, tcti);

    private static JsonElement Status(string state) =>
        JsonDocument.Parse(ProcessRunner.Run(TpmServerProcess.FastpathExecutable, ["vtpm", "status", "--state", state, "--json"], TimeSpan.FromSeconds(60)).EnsureSuccess().StandardOutput).RootElement;

    private static Process StartPair(string state)
    {
        var start = new ProcessStartInfo(TpmServerProcess.FastpathExecutable) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in (string[])["vtpm", "serve", "--state", state, "--timeout-ms", "5000"])
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start)!;
        var stderr = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        // Serving once the command socket answers a connect (the status socket opens after it).
        string socket = Path.Combine(state, "status.sock");
        for (int i = 0; i < 600; i++)
        {
            if (process.HasExited)
            {
                process.WaitForExit();
                lock (stderr)
                {
                    Assert.Fail($"vtpm serve exited with {process.ExitCode}: {stderr}");
                }
            }

            try
            {
                using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                probe.Connect(new UnixDomainSocketEndPoint(socket));
                return process;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }

        Stop(process);
        throw new TimeoutException($"nothing listens on {socket}");
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            // SIGTERM: the controller stops its instances (a kill of the controller alone would leave them).
            ProcessRunner.Run("kill", "-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (!process.WaitForExit(30_000))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(30_000);
            }
        }
    }
}
