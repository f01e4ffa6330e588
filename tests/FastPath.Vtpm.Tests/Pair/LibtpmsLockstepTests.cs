using FastPath.Testing;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Pair;

/// <summary>The default pair's RANDOM mechanism over libtpms (README, "RANDOM over libtpms"): commands that draw
/// only from libtpms's DRBG run on both instances in lockstep, the responses compared; commands that draw from
/// outside it (OpenSSL's generator, the clock) run on the master and its state is handed to the slave. Both
/// stay equal by the state digest, also after libtpms wrote its clock into NV (every 4.096 s of TPM clock).</summary>
public sealed class LibtpmsLockstepTests : IDisposable
{
    private readonly TempDirectory _state = new();
    private readonly TempDirectory _files = new();

    public void Dispose()
    {
        _state.Dispose();
        _files.Dispose();
    }

    [Fact]
    public void Drbg_commands_run_in_lockstep_and_signing_hands_the_masters_state_over()
    {
        using var pair = new PairProcess(_state.Path);
        Tool(pair, "tpm2_startup", "-c");
        long handovers = pair.Status().GetProperty("handovers").GetInt64();

        // GetRandom and HMAC-session NV commands: RANDOM, both instances draw the same numbers, no hand-over.
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(64, Tool(pair, "tpm2_getrandom", "32", "--hex").StandardOutput.Trim().Length);
        }

        Tool(pair, "tpm2_nvdefine", "0x1500031", "-C", "o", "-s", "8", "-a", "ownerread|ownerwrite");
        File.WriteAllText(_files.File("eight"), "lockstep");
        Tool(pair, "tpm2_nvwrite", "0x1500031", "-C", "o", "-i", "eight");
        Assert.Equal(handovers, pair.Status().GetProperty("handovers").GetInt64());
        (string a, string b) = pair.Digests();
        Assert.Equal(a, b);

        // ECDSA draws its nonce from OpenSSL's generator: the master signs, the slave gets its state.
        Tool(pair, "tpm2_createprimary", "-C", "o", "-G", "ecc256:ecdsa-sha256", "-a", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign", "-c", "signer.ctx");
        File.WriteAllText(_files.File("message"), "hand over");
        Tool(pair, "tpm2_sign", "-c", "signer.ctx", "-g", "sha256", "-o", "message.sig", "message");
        Tool(pair, "tpm2_flushcontext", "-t");
        Assert.True(pair.Status().GetProperty("handovers").GetInt64() > handovers);

        // The slave resumed from the master's DRBG: the next random numbers are drawn in lockstep, responses equal.
        Tool(pair, "tpm2_getrandom", "32", "--hex");
        Assert.Equal(0, pair.Status().GetProperty("members").EnumerateArray().Sum(m => m.GetProperty("divergences").GetInt64()));

        // Past a 4.096 s boundary of the TPM clock each instance writes its own clock into NV; digests still agree.
        Thread.Sleep(4500);
        Tool(pair, "tpm2_pcrextend", "10:sha256=" + new string('3', 64));
        (a, b) = pair.Digests();
        Assert.Equal(a, b);
        Assert.Equal(0, pair.Status().GetProperty("members").EnumerateArray().Sum(m => m.GetProperty("divergences").GetInt64()));
    }

    private ProcessResult Tool(PairProcess pair, string tool, params string[] arguments) =>
        Tpm2Tools.Run(pair.Port, tool, arguments, workingDirectory: _files.Path).EnsureSuccess();
}
