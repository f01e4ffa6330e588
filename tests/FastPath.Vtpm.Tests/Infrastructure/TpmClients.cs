using FastPath.Testing;

namespace FastPath.Vtpm.Tests.Infrastructure;

/// <summary>The nine everyday client operations of issue #16, each run with the real client (clevis, the
/// tpm2-openssl provider, tpm2-tools, tpm2-pytss at /usr/bin/python3) against a vTPM's swtpm-protocol port, every
/// call bounded by a timeout. <see cref="RunAll"/> returns the operations that failed, with their output.</summary>
/// <remarks>Not thread-safe per instance; owns a scratch directory.</remarks>
internal sealed class TpmClients : IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(90);
    private readonly TempDirectory _work = new();
    private readonly int _port;
    private readonly Dictionary<string, string> _environment;
    private readonly List<string> _failures = [];

    public TpmClients(int port)
    {
        _port = port;
        string tcti = $"swtpm:host=127.0.0.1,port={port}";
        _environment = new Dictionary<string, string> { ["TPM2TOOLS_TCTI"] = tcti, ["TPM2OPENSSL_TCTI"] = tcti };
    }

    public void Dispose() => _work.Dispose();

    /// <summary>Startup, then every operation in turn (transient objects and sessions the clients leave loaded are
    /// flushed between them: there is no resource manager on a swtpm TCTI); the names of the failed ones with output.</summary>
    public IReadOnlyList<string> RunAll()
    {
        Run("tpm2_startup", "-c");
        Check("clevis tpm2 encrypt (PCR 7 policy) + decrypt", ClevisRoundTrip);
        Check("clevis decrypt refused after a PCR 7 extend", ClevisRefusedAfterExtend);
        Check("tpm2-openssl EC P-256 keygen + sign", () => ProviderSign("EC", "group:P-256"));
        Check("tpm2-openssl RSA-2048 keygen + sign", () => ProviderSign("RSA", "bits:2048"));
        Check("tpm2-openssl random", ProviderRandom);
        Check("tpm2_createek", () => Expect(Run("tpm2_createek", "-c", "ek.ctx", "-G", "rsa", "-u", "ek.pub")));
        Check("restricted signing primary + tpm2_quote + tpm2_checkquote", QuoteVerifies);
        Check("persistent SRK: tpm2_evictcontrol + tpm2_readpublic", PersistentSrk);
        Check("tpm2-pytss ESAPI create_primary", PytssCreatePrimary);
        return _failures;
    }

    private void Check(string name, Func<string?> operation)
    {
        string? failure;
        try
        {
            failure = operation();
        }
        catch (Exception exception) when (exception is TimeoutException or InvalidOperationException or IOException)
        {
            failure = exception.Message;
        }

        if (failure is not null)
        {
            _failures.Add($"{name}: {failure}");
        }

        foreach (string kind in (string[])["-t", "-l", "-s"])
        {
            Run("tpm2_flushcontext", kind);
        }
    }

    public ProcessResult Run(string tool, params string[] arguments) => RunWithInput(tool, null, arguments);

    public ProcessResult RunWithInput(string tool, string? input, params string[] arguments) =>
        ProcessRunner.Run(tool, arguments, CallTimeout, input, _environment, _work.Path);

    private static string? Expect(ProcessResult result) =>
        result.ExitCode == 0 ? null : $"'{result.Command}' exited with {result.ExitCode}: {result.StandardError.Trim()}";

    private string? ClevisRoundTrip()
    {
        ProcessResult encrypt = RunWithInput("clevis", "sealed disk key\n", "encrypt", "tpm2", """{"pcr_bank":"sha256","pcr_ids":"7"}""");
        if (Expect(encrypt) is { } failed)
        {
            return failed;
        }

        File.WriteAllText(_work.File("disk.jwe"), encrypt.StandardOutput);
        ProcessResult decrypt = RunWithInput("clevis", encrypt.StandardOutput, "decrypt");
        return Expect(decrypt) ?? (decrypt.StandardOutput == "sealed disk key\n" ? null : $"decrypted '{decrypt.StandardOutput}'");
    }

    private string? ClevisRefusedAfterExtend()
    {
        string path = _work.File("disk.jwe");
        if (!File.Exists(path))
        {
            return "no JWE from the encrypt step";
        }

        if (Expect(Run("tpm2_pcrextend", "7:sha256=" + new string('0', 63) + "1")) is { } failed)
        {
            return failed;
        }

        ProcessResult decrypt = RunWithInput("clevis", File.ReadAllText(path), "decrypt");
        return decrypt.ExitCode != 0 && !decrypt.StandardOutput.Contains("sealed disk key", StringComparison.Ordinal)
            ? null
            : "clevis decrypt still succeeded after PCR 7 changed";
    }

    private string? ProviderSign(string algorithm, string option)
    {
        string key = algorithm + ".pem";
        File.WriteAllText(_work.File("message"), "attest me\n");
        return Expect(Run("openssl", "genpkey", "-provider", "tpm2", "-provider", "default", "-algorithm", algorithm, "-pkeyopt", option, "-out", key))
            ?? Expect(Run("openssl", "pkeyutl", "-provider", "tpm2", "-provider", "default", "-sign", "-inkey", key, "-rawin", "-digest", "sha256", "-in", "message", "-out", algorithm + ".sig"))
            ?? Expect(Run("openssl", "pkey", "-provider", "tpm2", "-provider", "default", "-in", key, "-pubout", "-out", algorithm + ".pub"))

            // The signature is checked by OpenSSL's default provider alone, against the exported public key.
            ?? Expect(Run("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", algorithm + ".pub", "-rawin", "-digest", "sha256", "-in", "message", "-sigfile", algorithm + ".sig"));
    }

    private string? ProviderRandom()
    {
        ProcessResult random = Run("openssl", "rand", "-provider", "tpm2", "-provider", "default", "-hex", "32");
        return Expect(random) ?? (random.StandardOutput.Trim().Length == 64 ? null : $"openssl rand printed '{random.StandardOutput.Trim()}'");
    }

    private string? QuoteVerifies()
    {
        return Expect(Run("tpm2_createprimary", "-C", "e", "-c", "ak.ctx", "-G", "ecc256:ecdsa-sha256:null", "-g", "sha256", "-a", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign"))
            ?? Expect(Run("tpm2_readpublic", "-c", "ak.ctx", "-o", "ak.pem", "-f", "pem"))
            ?? Expect(Run("tpm2_quote", "-c", "ak.ctx", "-l", "sha256:0,7", "-q", "abcd1234", "-m", "quote.msg", "-s", "quote.sig", "-o", "quote.pcrs", "-g", "sha256"))
            ?? Expect(Run("tpm2_checkquote", "-u", "ak.pem", "-m", "quote.msg", "-s", "quote.sig", "-f", "quote.pcrs", "-g", "sha256", "-q", "abcd1234"));
    }

    private string? PersistentSrk()
    {
        // A handle left by an earlier run on the same state is evicted first (its failure is not the test).
        Run("tpm2_evictcontrol", "-C", "o", "-c", "0x81000001");
        ProcessResult read = default!;
        string? failed = Expect(Run("tpm2_createprimary", "-C", "o", "-c", "srk.ctx", "-G", "ecc"))
            ?? Expect(Run("tpm2_evictcontrol", "-C", "o", "-c", "srk.ctx", "0x81000001"))
            ?? Expect(read = Run("tpm2_readpublic", "-c", "0x81000001"));
        return failed ?? (read.StandardOutput.Contains("ecc", StringComparison.OrdinalIgnoreCase) ? null : $"tpm2_readpublic printed '{read.StandardOutput}'");
    }

    private string? PytssCreatePrimary()
    {
        string script = $$"""
            from tpm2_pytss import ESAPI, TCTILdr
            with ESAPI(TCTILdr("swtpm", "host=127.0.0.1,port={{_port}}")) as esys:
                handle, public, _, _, _ = esys.create_primary(None, "ecc256")
                print("type", int(public.publicArea.type))
                esys.flush_context(handle)
            """;
        ProcessResult result = RunWithInput("/usr/bin/python3", script, "-");
        return Expect(result) ?? (result.StandardOutput.Contains("type 35", StringComparison.Ordinal) ? null : $"pytss printed '{result.StandardOutput}'");
    }
}
