using FastPath.Testing;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Tools;

/// <summary>Issue #16: keys, sealing and attestation work with real clients against the default engine
/// (libtpms embedded): clevis, the tpm2-openssl provider, tpm2-tools and tpm2-pytss, against <c>vtpm serve
/// --single</c> and the default pair; swtpm alone runs the same list, so a client-side change shows up there too.</summary>
public sealed class RealClientTests
{
    [Fact]
    public void The_nine_client_operations_pass_against_single()
    {
        using TpmServerProcess server = TpmServerProcess.StartFastpath();
        using var clients = new TpmClients(server.Port);
        IReadOnlyList<string> failures = clients.RunAll();
        Assert.True(failures.Count == 0, string.Join("\n", failures) + "\nserver stderr:\n" + server.Stderr);
    }

    [Fact]
    public void The_nine_client_operations_pass_against_the_default_pair_and_leave_it_in_lockstep()
    {
        using var state = new TempDirectory();
        using var pair = new PairProcess(state.Path, timeoutMilliseconds: 5000);
        using var clients = new TpmClients(pair.Port);
        IReadOnlyList<string> failures = clients.RunAll();
        Assert.True(failures.Count == 0, string.Join("\n", failures) + "\npair stderr:\n" + pair.Stderr);
        (string a, string b) = pair.Digests();
        Assert.Equal(a, b);
        Assert.Equal(0, pair.Status().GetProperty("members").EnumerateArray().Sum(m => m.GetProperty("divergences").GetInt64()));
    }

    [Fact]
    public void The_nine_client_operations_pass_against_swtpm_the_reference()
    {
        using TpmServerProcess server = TpmServerProcess.StartSwtpm();
        using var clients = new TpmClients(server.Port);
        IReadOnlyList<string> failures = clients.RunAll();
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }
}
