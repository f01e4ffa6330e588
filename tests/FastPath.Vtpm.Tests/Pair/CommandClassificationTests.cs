using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Pair;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Pair;

/// <summary>The classification table covers the engine and routes the entropy consumers as RANDOM.</summary>
public sealed class CommandClassificationTests
{
    [Fact]
    public void Every_command_the_engine_implements_has_an_entry_with_a_reason()
    {
        Assert.NotEmpty(CommandInfo.All);
        foreach (CommandInfo info in CommandInfo.All)
        {
            Assert.True(CommandClassification.Table.TryGetValue(info.Code, out (CommandClass Class, string Reason) entry), $"command 0x{info.Code:x} has no entry");
            Assert.False(string.IsNullOrWhiteSpace(entry.Reason));
        }

        Assert.Equal(CommandInfo.All.Length, CommandClassification.Table.Count);
    }

    [Fact]
    public void Entropy_consumers_are_random_and_any_authorization_area_makes_a_command_random()
    {
        Assert.Equal(CommandClass.Random, CommandClassification.Classify(TpmCommand.GetRandom(8)));
        Assert.Equal(CommandClass.Random, CommandClassification.Classify(TpmCommand.StartupClear()));
        Assert.Equal(CommandClass.Read, CommandClassification.Classify(TpmCommand.PcrReadSha256(16)));

        // NV_Read is READ by code, but its password session can count a dictionary-attack failure.
        Assert.Equal(CommandClass.Random, CommandClassification.Classify(TpmCommand.NvReadOwner(0x1500016, 8, 0)));
        Assert.Equal(CommandClass.Random, CommandClassification.Classify(TpmCommand.PcrExtendSha256(16, new byte[32])));
        Assert.Equal(CommandClass.Write, CommandClassification.Classify(new TpmCommand(0x7FF).Build()));
        Assert.Equal(CommandClass.Write, CommandClassification.Classify([0x80, 0x01, 0]));
    }

    /// <summary>Every command classified READ, run on an engine whose entropy source throws, leaves the full
    /// state digest unchanged (for the inputs tpm2-tools sends).</summary>
    [Fact]
    public void Read_commands_change_nothing_and_draw_no_entropy()
    {
        var random = new GuardedRandomSource(7);
        var harness = new EngineHarness(new TpmEngine(random));
        Assert.Equal(0u, RawTpmClient.Code(harness.Run(TpmCommand.StartupClear())));
        Assert.Equal(0u, RawTpmClient.Code(harness.Run(TpmCommand.NvDefineOwner(0x1500016, 8))));
        byte[] before = harness.Engine.StateDigest();
        random.Forbidden = true;
        byte[][] reads =
        [
            TpmCommand.PcrReadSha256(16),
            new TpmCommand(0x17A).U32(6).U32(0x100).U32(127).Build(), // GetCapability(TPM_PROPERTIES)
            new TpmCommand(0x17A).U32(0).U32(0).U32(127).Build(), // GetCapability(ALGS)
            new TpmCommand(0x169).Handle(0x1500016).Build(), // NV_ReadPublic
            new TpmCommand(0x17C).Build(), // GetTestResult
            new TpmCommand(0x17D).Tpm2B([1, 2, 3]).U16(0x000B).U32(0x40000001).Build(), // Hash
        ];
        foreach (byte[] read in reads)
        {
            Assert.Equal(CommandClass.Read, CommandClassification.Classify(read));
            Assert.Equal(0u, RawTpmClient.Code(harness.Run(read)));
            Assert.Equal(before, harness.Engine.StateDigest());
        }
    }
}
