using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Pair;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Pair;

/// <summary>The classification table covers the engine, routes the entropy consumers and HMAC sessions as RANDOM,
/// and passwords keep a command's class; checked against libtpms in this process.</summary>
[Collection(InProcessLibtpms.Name)]
public sealed class CommandClassificationTests
{
    [Fact]
    public void Every_row_names_one_command_with_its_handles_and_a_reason()
    {
        Assert.NotEmpty(CommandClassification.Rows);
        foreach (CommandRow row in CommandClassification.Rows)
        {
            Assert.InRange(row.Handles, 0, 3);
            Assert.False(string.IsNullOrWhiteSpace(row.Reason), $"command 0x{row.Code:x} has no reason");
        }

        Assert.Equal(CommandClassification.Rows.Length, CommandClassification.Table.Count);
    }

    [Fact]
    public void Entropy_consumers_and_hmac_sessions_are_random_and_passwords_keep_the_table_class()
    {
        Assert.Equal(CommandClass.Random, CommandClassification.Classify(TpmCommand.GetRandom(8)));
        Assert.Equal(CommandClass.Random, CommandClassification.Classify(TpmCommand.StartupClear()));
        Assert.Equal(CommandClass.Read, CommandClassification.Classify(TpmCommand.PcrReadSha256(16)));

        // A password draws no entropy: NV_Read stays READ, PCR_Extend stays WRITE.
        Assert.Equal(CommandClass.Read, CommandClassification.Classify(TpmCommand.NvReadOwner(0x1500016, 8, 0)));
        Assert.Equal(CommandClass.Write, CommandClassification.Classify(TpmCommand.PcrExtendSha256(16, new byte[32])));

        // An HMAC session (handle 0x02xxxxxx) rolls nonceTPM: RANDOM whatever the code's class.
        byte[] hmacRead = new TpmCommand(0x14E).Handle(0x40000001).Handle(0x1500016)
            .Session(0x02000000, nonce: new byte[16], hmac: new byte[32]).U16(8).U16(0).Build();
        Assert.Equal(CommandClass.Random, CommandClassification.Classify(hmacRead));

        // An authorization area that does not parse is RANDOM (both instances, same entropy).
        byte[] truncated = TpmCommand.NvReadOwner(0x1500016, 8, 0);
        truncated[TpmConstants.HeaderSize + 8 + 3] = 200; // authSize beyond the command
        Assert.Equal(CommandClass.Random, CommandClassification.Classify(truncated));

        Assert.Equal(CommandClass.Write, CommandClassification.Classify(new TpmCommand(0x7FF).Build()));
        Assert.Equal(CommandClass.Write, CommandClassification.Classify([0x80, 0x01, 0]));
    }

    [Fact]
    public void Only_a_counted_authorization_failure_is_a_state_change_of_a_read()
    {
        using var harness = new EngineHarness(new LibtpmsEngine(null, null));
        const uint index = 0x1500017;
        Assert.Equal(0u, RawTpmClient.Code(harness.Run(TpmCommand.StartupClear())));
        Assert.Equal(0u, RawTpmClient.Code(harness.Run(TpmCommand.NvDefineOwner(index, 8, 0x00040004)))); // AUTHREAD | AUTHWRITE
        byte[] before = harness.Engine.StateDigest();

        // The index's own (empty) auth, wrong password: counted (AUTH_FAIL), the state changed. libtpms first
        // answers TPM_RC_RETRY while it records in NV that it is no longer orderly (a change too); a TSS resends.
        byte[] wrongOnIndex = new TpmCommand(0x14E).Handle(index).Handle(index).Password([9]).U16(8).U16(0).Build();
        uint counted = 0;
        for (int attempt = 0; attempt < 3 && !CommandClassification.CountsAgainstLockout(counted); attempt++)
        {
            byte[] previous = harness.Engine.StateDigest();
            counted = RawTpmClient.Code(harness.Run(wrongOnIndex));
            Assert.True(CommandClassification.MayHaveChangedState(counted), $"0x{counted:x}");
            Assert.NotEqual(previous, harness.Engine.StateDigest());
        }

        Assert.True(CommandClassification.CountsAgainstLockout(counted), $"0x{counted:x}");
        Assert.NotEqual(before, harness.Engine.StateDigest());

        // Any other refusal of a READ leaves the state as it was, and the predicate says so.
        byte[] after = harness.Engine.StateDigest();
        uint refused = RawTpmClient.Code(harness.Run(TpmCommand.NvReadOwnerWithPassword(index, 8, 0, [9])));
        Assert.Equal(CommandClassification.MayHaveChangedState(refused), !after.AsSpan().SequenceEqual(harness.Engine.StateDigest()));
        Assert.False(CommandClassification.MayHaveChangedState(0));
    }

    /// <summary>Every command classified READ leaves libtpms's state digest (its NV) unchanged, for the inputs
    /// tpm2-tools sends.</summary>
    [Fact]
    public void Read_commands_change_nothing()
    {
        using var harness = new EngineHarness(new LibtpmsEngine(null, null));
        Assert.Equal(0u, RawTpmClient.Code(harness.Run(TpmCommand.StartupClear())));
        Assert.Equal(0u, RawTpmClient.Code(harness.Run(TpmCommand.NvDefineOwner(0x1500016, 8))));
        Assert.Equal(0u, RawTpmClient.Code(harness.Run(TpmCommand.NvWriteOwner(0x1500016, new byte[8], 0))));
        byte[] before = harness.Engine.StateDigest();
        byte[][] reads =
        [
            TpmCommand.PcrReadSha256(16),
            new TpmCommand(0x17A).U32(6).U32(0x100).U32(127).Build(), // GetCapability(TPM_PROPERTIES)
            new TpmCommand(0x17A).U32(0).U32(0).U32(127).Build(), // GetCapability(ALGS)
            new TpmCommand(0x169).Handle(0x1500016).Build(), // NV_ReadPublic
            new TpmCommand(0x17C).Build(), // GetTestResult
            new TpmCommand(0x17D).Tpm2B([1, 2, 3]).U16(0x000B).U32(0x40000001).Build(), // Hash
            TpmCommand.NvReadOwner(0x1500016, 8, 0), // NV_Read with the right password
        ];
        foreach (byte[] read in reads)
        {
            Assert.Equal(CommandClass.Read, CommandClassification.Classify(read));
            Assert.Equal(0u, RawTpmClient.Code(harness.Run(read)));
            Assert.Equal(before, harness.Engine.StateDigest());
        }
    }
}
