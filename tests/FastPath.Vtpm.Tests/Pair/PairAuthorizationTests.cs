using FastPath.Testing;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Pair;

/// <summary>
/// Password-authorized reads through the real pair: a right password is a READ served by one instance; a
/// wrong one on a lockout-protected index is counted by the instance that ran it and copied to the other, so
/// both instances keep the same dictionary-attack state.
/// </summary>
public sealed class PairAuthorizationTests : IDisposable
{
    private const uint Index = 0x1500022;
    private readonly TempDirectory _state = new();

    public void Dispose() => _state.Dispose();

    [Fact]
    public void A_failed_password_on_a_read_is_counted_on_both_instances()
    {
        using var pair = new PairProcess(_state.Path);
        Ok(RawTpmClient.Once(pair.Port, TpmCommand.StartupClear()));
        Ok(RawTpmClient.Once(pair.Port, TpmCommand.NvDefineOwner(Index, 8, 0x00040004))); // AUTHREAD | AUTHWRITE, empty auth
        // libtpms answers the first write of a new index TPM_RC_RETRY (swtpm too); a TSS sends it again.
        byte[] write = new TpmCommand(0x137).Handle(Index).Handle(Index).Password().Tpm2B([1, 2, 3, 4, 5, 6, 7, 8]).U16(0).Build();
        byte[] written = RawTpmClient.Once(pair.Port, write);
        Ok(RawTpmClient.Code(written) == 0x922 ? RawTpmClient.Once(pair.Port, write) : written);
        long readsBefore = Reads(pair);
        long resyncsBefore = pair.Status().GetProperty("resyncs").GetInt64();

        byte[] right = RawTpmClient.Once(pair.Port, new TpmCommand(0x14E).Handle(Index).Handle(Index).Password().U16(8).U16(0).Build());
        Ok(right);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, right.AsSpan(16, 8).ToArray());
        Assert.Equal(readsBefore + 1, Reads(pair));
        Assert.Equal(resyncsBefore, pair.Status().GetProperty("resyncs").GetInt64());

        byte[] wrong = RawTpmClient.Once(pair.Port, new TpmCommand(0x14E).Handle(Index).Handle(Index).Password([9]).U16(8).U16(0).Build());
        Assert.Equal(0x98Eu, RawTpmClient.Code(wrong)); // TPM_RC_AUTH_FAIL, session 1
        Assert.Equal(resyncsBefore + 1, pair.Status().GetProperty("resyncs").GetInt64());
        (string a, string b) = pair.Digests();
        Assert.Equal(a, b);
        Assert.Equal(0, pair.Status().GetProperty("failovers").GetInt64());
    }

    private static long Reads(PairProcess pair) =>
        pair.Status().GetProperty("members").EnumerateArray().Sum(m => m.GetProperty("reads").GetInt64());

    private static void Ok(byte[] response) => Assert.Equal(0u, RawTpmClient.Code(response));
}
