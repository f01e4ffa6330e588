using System.Security.Cryptography;
using System.Text;
using FastPath.Testing;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Tools;

/// <summary>
/// Config → send → verify: start `fastpath vtpm serve --single` and `swtpm socket` on free loopback ports,
/// run the same tpm2-tools 5.4 invocation against each through the swtpm TCTI, and require identical
/// deterministic output (PCR values, NV contents and public areas, digests, chosen capabilities, error codes).
/// </summary>
public sealed class SideBySideTests : IDisposable
{
    private static readonly string Zero32 = new string('0', 63) + "1";

    private readonly SideBySide _lab = new();

    public void Dispose() => _lab.Dispose();

    [Fact]
    public void Startup_shutdown_selftest_and_test_result_behave_like_swtpm()
    {
        _lab.Same("tpm2_selftest");
        _lab.Same("tpm2_selftest", "--fulltest");
        Assert.Contains("success", _lab.Same("tpm2_gettestresult"));
        _lab.Same("tpm2_shutdown");
        _lab.Same("tpm2_shutdown", "-c");
    }

    [Fact]
    public void Pcr_extend_event_read_and_reset_give_the_same_values_as_swtpm()
    {
        string data = _lab.File("event.bin", Encoding.ASCII.GetBytes("boot event\n"));
        _lab.Same("tpm2_pcrextend", $"16:sha1={new string('a', 40)},sha256={Zero32}");
        _lab.Same("tpm2_pcrextend", $"23:sha384={new string('b', 96)},sha512={new string('c', 128)}");
        _lab.Same("tpm2_pcrevent", "16", data);
        _lab.Same("tpm2_pcrevent", "23", data);
        string values = _lab.Same("tpm2_pcrread", "sha1:0,16,17,23+sha256:16,23+sha384:16,23+sha512:16,23");
        Assert.Contains("0xFFFFFFFF", values); // PCR 17 starts as all ones (PC Client D-RTM PCR)
        _lab.Same("tpm2_pcrreset", "16");
        _lab.Same("tpm2_pcrreset", "23");
        _lab.Same("tpm2_pcrread", "sha1:16,23+sha256:16,23");

        // tpm2_pcrevent prints the digest of the event data for every bank.
        string fastpath = Tpm2Tools.Run(_lab.Fastpath.Port, "tpm2_pcrevent", ["16", data], workingDirectory: _lab.Files.Path).EnsureSuccess().StandardOutput;
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes("boot event\n"))), fastpath);
    }

    [Fact]
    public void Pcr_event_of_a_file_larger_than_one_buffer_runs_an_event_sequence_like_swtpm()
    {
        // tpm2_pcrevent hashes more than 1024 bytes with HashSequenceStart(NULL), SequenceUpdate, EventSequenceComplete.
        byte[] contents = new byte[5000];
        new Random(5000).NextBytes(contents);
        string data = _lab.File("large-event.bin", contents);
        string output = _lab.Same("tpm2_pcrevent", "16", data);
        Assert.Contains(Convert.ToHexStringLower(SHA512.HashData(contents)), output);
        _lab.Same("tpm2_pcrevent", data);
        _lab.Same("tpm2_pcrread", "sha1:16+sha256:16+sha384:16+sha512:16");
    }

    [Fact]
    public void Pcr_errors_match_swtpm()
    {
        Assert.Equal("0x00000184", _lab.SameError("tpm2_pcrextend", $"24:sha256={Zero32}"));
        Assert.Equal("0x00000907", _lab.SameError("tpm2_pcrreset", "0"));
    }

    [Fact]
    public void Nv_ordinary_counter_bits_and_extend_indices_match_swtpm()
    {
        string data = _lab.File("data.bin", Encoding.ASCII.GetBytes("hello nv"));
        _lab.Same("tpm2_nvdefine", "0x1500016", "-C", "o", "-s", "32", "-a", "ownerread|ownerwrite");
        _lab.Same("tpm2_nvwrite", "0x1500016", "-C", "o", "-i", data);
        _lab.Same("tpm2_nvwrite", "0x1500016", "-C", "o", "-i", data, "--offset", "20");
        Assert.Equal(32, _lab.Same("tpm2_nvread", "0x1500016", "-C", "o").Length);
        Assert.Equal("hello nv", _lab.Same("tpm2_nvread", "0x1500016", "-C", "o", "-s", "8"));
        Assert.Contains("written", _lab.Same("tpm2_nvreadpublic", "0x1500016"));

        _lab.Same("tpm2_nvdefine", "0x1500017", "-C", "o", "-s", "8", "-a", "ownerread|ownerwrite|nt=counter");
        for (int i = 0; i < 3; i++)
        {
            _lab.Same("tpm2_nvincrement", "0x1500017", "-C", "o");
        }

        _lab.Same("tpm2_nvread", "0x1500017", "-C", "o");

        _lab.Same("tpm2_nvdefine", "0x1500018", "-C", "o", "-g", "sha256", "-a", "ownerread|ownerwrite|nt=extend");
        _lab.Same("tpm2_nvextend", "0x1500018", "-C", "o", "-i", data);
        _lab.Same("tpm2_nvextend", "0x1500018", "-C", "o", "-i", data);
        _lab.Same("tpm2_nvread", "0x1500018", "-C", "o");

        _lab.Same("tpm2_nvdefine", "0x1500019", "-C", "o", "-s", "8", "-a", "ownerread|ownerwrite|nt=bits");
        _lab.Same("tpm2_nvsetbits", "0x1500019", "-C", "o", "-i", "0x5");
        _lab.Same("tpm2_nvsetbits", "0x1500019", "-C", "o", "-i", "0x100");
        _lab.Same("tpm2_nvread", "0x1500019", "-C", "o");

        foreach (string index in new[] { "0x1500016", "0x1500017", "0x1500018", "0x1500019" })
        {
            _lab.Same("tpm2_nvreadpublic", index);
        }

        _lab.Same("tpm2_getcap", "handles-nv-index");
        _lab.Same("tpm2_nvundefine", "0x1500016", "-C", "o");
        _lab.Same("tpm2_nvundefine", "0x1500017", "-C", "o");
        _lab.Same("tpm2_getcap", "handles-nv-index");
    }

    [Fact]
    public void Nv_errors_match_swtpm()
    {
        Assert.Equal("0x0000018b", _lab.SameError("tpm2_nvread", "0x1500030", "-C", "o", "-s", "4"));
        _lab.Same("tpm2_nvdefine", "0x1500031", "-C", "o", "-s", "4", "-a", "ownerread|ownerwrite");
        Assert.Equal("0x0000014a", _lab.SameError("tpm2_nvread", "0x1500031", "-C", "o", "-s", "4"));

        // Writing past the end: tpm2_nvwrite refuses to send it, so the command goes out raw.
        byte[] write = TpmCommand.NvWriteOwner(0x1500031, [1, 2, 3, 4], offset: 2);
        byte[] expected = RawTpmClient.Once(_lab.Swtpm.Port, write);
        Assert.Equal(expected, RawTpmClient.Once(_lab.Fastpath.Port, write));
        Assert.Equal(0x146u, RawTpmClient.Code(expected)); // TPM_RC_NV_RANGE

        // Wrong passwords: the owner hierarchy is exempt from dictionary-attack counting (BAD_AUTH), an
        // index without NO_DA is not (AUTH_FAIL).
        Assert.Equal("0x000009a2", _lab.SameError("tpm2_nvdefine", "0x1500032", "-C", "o", "-P", "wrong", "-s", "8", "-a", "ownerread|ownerwrite"));
        string z8 = _lab.File("z8.bin", new byte[8]);
        _lab.Same("tpm2_nvdefine", "0x1500033", "-C", "o", "-s", "8", "-p", "idxpass", "-a", "authread|authwrite");
        Assert.Equal("0x0000098e", _lab.SameError("tpm2_nvwrite", "0x1500033", "-C", "0x1500033", "-P", "bad", "-i", z8));
        Assert.Equal("0x0000014a", _lab.SameError("tpm2_nvread", "0x1500033", "-C", "0x1500033", "-P", "idxpass"));
        _lab.Same("tpm2_nvwrite", "0x1500033", "-C", "0x1500033", "-P", "idxpass", "-i", z8);
        _lab.Same("tpm2_nvread", "0x1500033", "-C", "0x1500033", "-P", "idxpass");
    }

    [Fact]
    public void Hash_of_a_file_stdin_and_a_multi_chunk_file_matches_swtpm_and_dotnet()
    {
        byte[] small = Encoding.ASCII.GetBytes("hello\n");
        byte[] large = new byte[3000];
        new Random(8).NextBytes(large);
        string smallPath = _lab.File("small.bin", small);
        string largePath = _lab.File("large.bin", large);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(small)), _lab.Same("tpm2_hash", "-g", "sha256", "--hex", smallPath).Trim());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(large)), _lab.Same("tpm2_hash", "-g", "sha256", "--hex", largePath).Trim());
        Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(large)), _lab.Same("tpm2_hash", "-g", "sha1", "--hex", largePath).Trim());
        Assert.Equal(Convert.ToHexStringLower(SHA384.HashData(small)), _lab.Same("tpm2_hash", "-g", "sha384", "--hex", smallPath).Trim());

        (ProcessResult fastpath, ProcessResult swtpm) = _lab.BothWithInput("tpm2_hash", "from stdin\n", "-g", "sha256", "--hex");
        Assert.Equal(swtpm.EnsureSuccess().StandardOutput, fastpath.EnsureSuccess().StandardOutput);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes("from stdin\n"))), fastpath.StandardOutput.Trim());
    }

    [Fact]
    public void Random_numbers_have_the_requested_length_and_do_not_repeat()
    {
        var seen = new HashSet<string>();
        foreach (TpmServerProcess server in new[] { _lab.Fastpath, _lab.Swtpm })
        {
            for (int i = 0; i < 4; i++)
            {
                string hex = Tpm2Tools.Run(server.Port, "tpm2_getrandom", "32", "--hex").EnsureSuccess().StandardOutput.Trim();
                Assert.Equal(64, hex.Length);
                Assert.True(seen.Add(hex), $"{server.Name} repeated {hex}");
            }
        }

        string stir = _lab.File("stir.bin", Encoding.ASCII.GetBytes("more entropy"));
        _lab.Same("tpm2_stirrandom", stir);
    }

    [Fact]
    public void Capabilities_chosen_to_match_are_identical()
    {
        _lab.Same("tpm2_getcap", "pcrs");
        _lab.Same("tpm2_getcap", "handles-persistent");
        _lab.Same("tpm2_getcap", "handles-nv-index");

        // The default engine is libtpms, as in swtpm: every command swtpm lists, with the same TPMA_CC.
        (ProcessResult fastpath, ProcessResult swtpm) = _lab.Both("tpm2_getcap", "commands");
        string[] ours = Blocks(fastpath.EnsureSuccess().StandardOutput);
        string[] theirs = Blocks(swtpm.EnsureSuccess().StandardOutput);
        Assert.True(ours.Length > 100, $"{ours.Length} commands listed");
        Assert.Equal(theirs, ours);

        // The same algorithms as swtpm (the same libtpms).
        (fastpath, swtpm) = _lab.Both("tpm2_getcap", "algorithms");
        string[] ourAlgs = Blocks(fastpath.EnsureSuccess().StandardOutput);
        Assert.Equal(Blocks(swtpm.EnsureSuccess().StandardOutput), ourAlgs);

        (fastpath, swtpm) = _lab.Both("tpm2_getcap", "properties-fixed");
        foreach (string property in new[] { "TPM2_PT_FAMILY_INDICATOR", "TPM2_PT_LEVEL", "TPM2_PT_INPUT_BUFFER", "TPM2_PT_HR_TRANSIENT_MIN", "TPM2_PT_HR_LOADED_MIN", "TPM2_PT_ACTIVE_SESSIONS_MAX", "TPM2_PT_PCR_COUNT", "TPM2_PT_PCR_SELECT_MIN", "TPM2_PT_MAX_COMMAND_SIZE", "TPM2_PT_MAX_RESPONSE_SIZE", "TPM2_PT_MAX_DIGEST", "TPM2_PT_NV_BUFFER_MAX" })
        {
            Assert.Equal(Property(swtpm.EnsureSuccess().StandardOutput, property), Property(fastpath.EnsureSuccess().StandardOutput, property));
        }

        (fastpath, swtpm) = _lab.Both("tpm2_getcap", "properties-variable");
        foreach (string property in new[] { "TPM2_PT_PERMANENT", "TPM2_PT_STARTUP_CLEAR", "TPM2_PT_HR_NV_INDEX", "TPM2_PT_MAX_AUTH_FAIL" })
        {
            Assert.Equal(Property(swtpm.EnsureSuccess().StandardOutput, property), Property(fastpath.EnsureSuccess().StandardOutput, property));
        }
    }

    [Fact]
    public void Hmac_sessions_saved_in_a_context_file_authorize_across_connections()
    {
        _lab.Same("tpm2_nvdefine", "0x1500040", "-C", "o", "-s", "8", "-a", "ownerread|ownerwrite");
        string z8 = _lab.File("z8.bin", [1, 2, 3, 4, 5, 6, 7, 8]);
        foreach (TpmServerProcess server in new[] { _lab.Fastpath, _lab.Swtpm })
        {
            string context = _lab.Files.File(server.Name + ".ctx");
            Tpm2Tools.Run(server.Port, "tpm2_startauthsession", ["-S", context, "--hmac-session"], workingDirectory: _lab.Files.Path).EnsureSuccess();
            Tpm2Tools.Run(server.Port, "tpm2_nvwrite", ["0x1500040", "-C", "o", "-P", "session:" + context, "-i", z8]).EnsureSuccess();
            Tpm2Tools.Run(server.Port, "tpm2_nvread", ["0x1500040", "-C", "o", "-P", "session:" + context]).EnsureSuccess();
            Tpm2Tools.Run(server.Port, "tpm2_flushcontext", context).EnsureSuccess();
        }

        _lab.Same("tpm2_nvread", "0x1500040", "-C", "o");
        _lab.Same("tpm2_getcap", "handles-saved-session");
        _lab.Same("tpm2_getcap", "handles-loaded-session");
    }

    [Fact]
    public void Owner_auth_change_and_clear_behave_like_swtpm()
    {
        _lab.Same("tpm2_nvdefine", "0x1500050", "-C", "o", "-s", "8", "-a", "ownerread|ownerwrite");
        _lab.Same("tpm2_changeauth", "-c", "o", "newpass");
        Assert.Equal("0x000009a2", _lab.SameError("tpm2_nvdefine", "0x1500051", "-C", "o", "-s", "8", "-a", "ownerread|ownerwrite"));
        _lab.Same("tpm2_nvdefine", "0x1500051", "-C", "o", "-P", "newpass", "-s", "8", "-a", "ownerread|ownerwrite");
        _lab.Same("tpm2_getcap", "handles-nv-index");
        Assert.Equal(Property(_lab.Both("tpm2_getcap", "properties-variable").Swtpm.StandardOutput, "TPM2_PT_PERMANENT"), Property(_lab.Both("tpm2_getcap", "properties-variable").Fastpath.StandardOutput, "TPM2_PT_PERMANENT"));
        _lab.Same("tpm2_changeauth", "-c", "o", "-p", "newpass", "other");
        _lab.Same("tpm2_clear");
        Assert.Equal(string.Empty, _lab.Same("tpm2_getcap", "handles-nv-index"));
        _lab.Same("tpm2_nvdefine", "0x1500052", "-C", "o", "-s", "8", "-a", "ownerread|ownerwrite");
    }

    /// <summary>Splits tpm2_getcap YAML into top-level blocks (a line without indentation and what follows).</summary>
    private static string[] Blocks(string yaml)
    {
        var blocks = new List<string>();
        var current = new StringBuilder();
        foreach (string line in yaml.Split('\n'))
        {
            if (line.Length > 0 && !char.IsWhiteSpace(line[0]) && current.Length > 0)
            {
                blocks.Add(current.ToString().TrimEnd());
                current.Clear();
            }

            current.Append(line).Append('\n');
        }

        if (current.ToString().Trim().Length > 0)
        {
            blocks.Add(current.ToString().TrimEnd());
        }

        return [.. blocks];
    }

    private static string Property(string yaml, string name) =>
        Blocks(yaml).SingleOrDefault(b => b.StartsWith(name + ":", StringComparison.Ordinal)) ?? $"{name} missing";
}
