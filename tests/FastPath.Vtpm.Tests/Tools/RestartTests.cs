using System.Text;
using FastPath.Testing;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Tools;

/// <summary>
/// Config → send → verify: drive `fastpath vtpm serve` with tpm2-tools, SIGKILL the server between two
/// commands, start a new server on the same state directory, and check that every acknowledged change is
/// still there (the store writes before the response leaves).
/// </summary>
public sealed class RestartTests : IDisposable
{
    private readonly TempDirectory _state = new();
    private readonly TempDirectory _files = new();

    public void Dispose()
    {
        _state.Dispose();
        _files.Dispose();
    }

    [Fact]
    public void Nv_contents_counters_and_owner_auth_survive_kill_9_between_any_two_commands()
    {
        string data = Path.Combine(_files.Path, "data.bin");
        File.WriteAllBytes(data, Encoding.ASCII.GetBytes("survives"));
        string[][] steps =
        [
            ["tpm2_nvdefine", "0x1500016", "-C", "o", "-s", "8", "-a", "ownerread|ownerwrite"],
            ["tpm2_nvwrite", "0x1500016", "-C", "o", "-i", data],
            ["tpm2_nvdefine", "0x1500017", "-C", "o", "-s", "8", "-a", "ownerread|ownerwrite|nt=counter"],
            ["tpm2_nvincrement", "0x1500017", "-C", "o"],
            ["tpm2_nvincrement", "0x1500017", "-C", "o"],
            ["tpm2_changeauth", "-c", "o", "secret"],
            ["tpm2_nvincrement", "0x1500017", "-C", "o", "-P", "secret"],
        ];

        foreach (string[] step in steps)
        {
            using TpmServerProcess server = TpmServerProcess.StartFastpath(_state.Path);
            Tpm2Tools.Run(server.Port, "tpm2_startup", "-c").EnsureSuccess();
            Tpm2Tools.Run(server.Port, step[0], step[1..]).EnsureSuccess();
            server.Kill9();
        }

        using TpmServerProcess last = TpmServerProcess.StartFastpath(_state.Path);
        Tpm2Tools.Run(last.Port, "tpm2_startup", "-c").EnsureSuccess();
        Assert.Equal("survives", Tpm2Tools.Run(last.Port, "tpm2_nvread", "0x1500016", "-C", "o", "-P", "secret").EnsureSuccess().StandardOutput);
        byte[] counter = RawCounter(last.Port);
        Assert.Equal(3ul, System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(counter));
        Assert.NotEqual(0, Tpm2Tools.Run(last.Port, "tpm2_nvread", "0x1500016", "-C", "o").ExitCode);
    }

    [Fact]
    public void Shutdown_state_then_kill_9_resumes_pcrs_with_startup_state_and_clear_resets_them()
    {
        string pcrs;
        using (TpmServerProcess server = TpmServerProcess.StartFastpath(_state.Path))
        {
            Tpm2Tools.Run(server.Port, "tpm2_startup", "-c").EnsureSuccess();
            Tpm2Tools.Run(server.Port, "tpm2_pcrextend", "10:sha256=" + new string('7', 64)).EnsureSuccess();
            pcrs = Tpm2Tools.Run(server.Port, "tpm2_pcrread", "sha256:10").EnsureSuccess().StandardOutput;
            Tpm2Tools.Run(server.Port, "tpm2_shutdown").EnsureSuccess();
            server.Kill9();
        }

        using (TpmServerProcess server = TpmServerProcess.StartFastpath(_state.Path))
        {
            Assert.Equal("0x00000100", Tpm2Tools.ErrorCode(Tpm2Tools.Run(server.Port, "tpm2_pcrread", "sha256:10")));
            Tpm2Tools.Run(server.Port, "tpm2_startup").EnsureSuccess();
            Assert.Equal(pcrs, Tpm2Tools.Run(server.Port, "tpm2_pcrread", "sha256:10").EnsureSuccess().StandardOutput);
            server.Kill9();
        }

        using (TpmServerProcess server = TpmServerProcess.StartFastpath(_state.Path))
        {
            // The saved state was used once; only Startup(CLEAR) is possible now and it resets PCR 10.
            Assert.NotEqual(0, Tpm2Tools.Run(server.Port, "tpm2_startup").ExitCode);
            Tpm2Tools.Run(server.Port, "tpm2_startup", "-c").EnsureSuccess();
            Assert.Contains("0x0000000000000000000000000000000000000000000000000000000000000000", Tpm2Tools.Run(server.Port, "tpm2_pcrread", "sha256:10").EnsureSuccess().StandardOutput);
        }
    }

    private static byte[] RawCounter(int port)
    {
        byte[] response = RawTpmClient.Once(port, TpmCommand.NvReadOwnerWithPassword(0x1500017, 8, 0, Encoding.ASCII.GetBytes("secret")));
        Assert.Equal(0u, RawTpmClient.Code(response));

        // header(10) + parameterSize(4) + TPM2B size(2) + 8 data bytes.
        return response.AsSpan(16, 8).ToArray();
    }
}
