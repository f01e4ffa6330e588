using System.Buffers.Binary;
using System.Security.Cryptography;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Engine;

public sealed class EngineTests
{
    private static readonly byte[] Digest = SHA256.HashData("measurement"u8);

    private static EngineHarness Started(RandomSource random)
    {
        var harness = new EngineHarness(new TpmEngine(random));
        Assert.Equal(0u, harness.Code(TpmCommand.StartupClear()));
        return harness;
    }

    [Fact]
    public void Commands_before_startup_answer_initialize()
    {
        var harness = new EngineHarness(new TpmEngine(new SeededRandomSource(1)));
        Assert.Equal(0x100u, harness.Code(TpmCommand.GetRandom(8)));
        Assert.Equal(0u, harness.Code(TpmCommand.StartupClear()));
        Assert.Equal(0x100u, harness.Code(TpmCommand.StartupClear()));
    }

    [Theory]
    [InlineData(new byte[0], 0x09Au)]
    [InlineData(new byte[] { 0x80, 0x01, 0x00 }, 0x09Au)]
    [InlineData(new byte[] { 0x80, 0x01, 0x00, 0x00, 0x00, 0x0C, 0x00, 0x00, 0x01, 0x7B }, 0x142u)] // size says 12, buffer is 10
    [InlineData(new byte[] { 0x80, 0x01, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x00, 0x09, 0x99 }, 0x143u)] // unknown command code
    [InlineData(new byte[] { 0x12, 0x34, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x00, 0x01, 0x7B }, 0x01Eu)] // bad tag
    [InlineData(new byte[] { 0x80, 0x01, 0x00, 0x00, 0x00, 0x0A, 0x00, 0x00, 0x01, 0x7B }, 0x1DAu)] // GetRandom without its parameter
    [InlineData(new byte[] { 0x80, 0x01, 0x00, 0x00, 0x00, 0x0D, 0x00, 0x00, 0x01, 0x7B, 0x00, 0x08, 0x00 }, 0x095u)] // a byte too many
    public void Malformed_commands_get_the_matching_format_or_size_error(byte[] command, uint expected)
    {
        EngineHarness harness = Started(new SeededRandomSource(2));
        byte[] response = harness.Run(command);
        Assert.Equal(10, response.Length);
        Assert.Equal(10u, BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(2)));
        Assert.Equal(expected, BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6)));
    }

    [Fact]
    public void An_authorization_area_larger_than_the_command_answers_authsize()
    {
        EngineHarness harness = Started(new SeededRandomSource(3));
        byte[] command = TpmCommand.PcrExtendSha256(16, Digest);
        BinaryPrimitives.WriteUInt32BigEndian(command.AsSpan(14), 0x7FFF);
        Assert.Equal(0x144u, harness.Code(command));
    }

    [Fact]
    public void A_handle_missing_its_session_answers_auth_missing()
    {
        EngineHarness harness = Started(new SeededRandomSource(4));
        byte[] command = new TpmCommand(0x182).Handle(16).U32(1).U16(0x000B).Bytes(Digest).Build();
        Assert.Equal(0x125u, harness.Code(command));
    }

    [Fact]
    public void Pcr_extend_matches_the_definition_of_extend()
    {
        EngineHarness harness = Started(new SeededRandomSource(5));
        Assert.Equal(0u, harness.Code(TpmCommand.PcrExtendSha256(16, Digest)));
        byte[] response = harness.Run(TpmCommand.PcrReadSha256(16));
        byte[] expected = SHA256.HashData([.. new byte[32], .. Digest]);
        Assert.Equal(expected, response.AsSpan(response.Length - 32).ToArray());
    }

    [Fact]
    public void Loaded_session_slots_are_limited_and_answer_session_memory()
    {
        EngineHarness harness = Started(new SeededRandomSource(6));
        byte[] start = new TpmCommand(0x176).Handle(0x40000007).Handle(0x40000007).Tpm2B(new byte[32]).Tpm2B([]).U8(0).U16(0x0010).U16(0x000B).Build();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(0u, harness.Code(start));
        }

        Assert.Equal(0x903u, harness.Code(start));
        Assert.Equal(0u, harness.Code(new TpmCommand(0x165).U32(0x02000001).Build()));
        Assert.Equal(0u, harness.Code(start));
    }

    [Fact]
    public void Two_engines_with_the_same_entropy_and_commands_have_the_same_state_digest()
    {
        EngineHarness a = Started(new SeededRandomSource(7));
        EngineHarness b = Started(new SeededRandomSource(7));
        foreach (byte[] command in Workload())
        {
            Assert.Equal(a.Run(command), b.Run(command));
        }

        Assert.Equal(a.Engine.StateDigest(), b.Engine.StateDigest());
        EngineHarness c = Started(new SeededRandomSource(8));
        Assert.NotEqual(a.Engine.StateDigest(), c.Engine.StateDigest());
    }

    [Fact]
    public void A_replica_replaying_recorded_entropy_stays_bit_identical_after_every_command()
    {
        var recorder = new RecordingRandomSource(SystemRandomSource.Instance);
        var master = new EngineHarness(new TpmEngine(recorder));
        var replay = new ReplayRandomSource();
        replay.Supply(recorder.TakeRecorded());
        var replica = new EngineHarness(new TpmEngine(replay));
        Assert.Equal(master.Engine.StateDigest(), replica.Engine.StateDigest());

        foreach (byte[] command in (byte[][])[TpmCommand.StartupClear(), .. Workload()])
        {
            byte[] response = master.Run(command);
            replay.Supply(recorder.TakeRecorded());
            Assert.Equal(response, replica.Run(command));
            Assert.Equal(0, replay.Pending);
            Assert.Equal(master.Engine.StateDigest(), replica.Engine.StateDigest());
        }
    }

    [Fact]
    public void Full_state_blob_resyncs_another_engine_exactly()
    {
        EngineHarness source = Started(new SeededRandomSource(9));
        foreach (byte[] command in Workload())
        {
            source.Run(command);
        }

        var target = new EngineHarness(new TpmEngine(new SeededRandomSource(10)));
        target.Engine.RestoreState(source.Engine.SerializeState());
        Assert.Equal(source.Engine.StateDigest(), target.Engine.StateDigest());
        Assert.Equal(source.Run(TpmCommand.PcrReadSha256(16)), target.Run(TpmCommand.PcrReadSha256(16)));
        Assert.Equal(source.Run(TpmCommand.NvReadOwner(0x01500020, 4, 0)), target.Run(TpmCommand.NvReadOwner(0x01500020, 4, 0)));
    }

    [Fact]
    public void Persistent_blob_round_trips_and_a_truncated_blob_is_refused_by_name()
    {
        EngineHarness source = Started(new SeededRandomSource(11));
        foreach (byte[] command in Workload())
        {
            source.Run(command);
        }

        byte[] blob = source.Engine.SerializePersistent();
        var copy = new TpmEngine(new SeededRandomSource(12), blob);
        Assert.Equal(blob, copy.SerializePersistent());
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => new TpmEngine(new SeededRandomSource(12), blob[..^3]));
        Assert.Contains("nv.data", error.Message);
    }

    [Fact]
    public void Persistence_callback_runs_before_the_response_only_for_persistent_changes()
    {
        var writes = new List<byte[]>();
        var harness = new EngineHarness(new TpmEngine(new SeededRandomSource(13), persist: writes.Add));
        harness.Run(TpmCommand.StartupClear());
        int afterStartup = writes.Count;
        harness.Run(TpmCommand.GetRandom(16));
        harness.Run(TpmCommand.PcrExtendSha256(16, Digest));
        Assert.Equal(afterStartup, writes.Count);
        harness.Run(TpmCommand.NvDefineOwner(0x01500020, 4));
        harness.Run(TpmCommand.NvWriteOwner(0x01500020, [1, 2, 3, 4], 0));
        Assert.Equal(afterStartup + 2, writes.Count);
        var restored = new EngineHarness(new TpmEngine(new SeededRandomSource(14), writes[^1]));
        restored.Run(TpmCommand.StartupClear());
        byte[] read = restored.Run(TpmCommand.NvReadOwner(0x01500020, 4, 0));
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, read.AsSpan(16, 4).ToArray());
    }

    internal static IEnumerable<byte[]> Workload()
    {
        yield return TpmCommand.GetRandom(32);
        yield return TpmCommand.PcrExtendSha256(16, Digest);
        yield return TpmCommand.NvDefineOwner(0x01500020, 4);
        yield return TpmCommand.NvWriteOwner(0x01500020, [9, 8, 7, 6], 0);
        yield return new TpmCommand(0x176).Handle(0x40000007).Handle(0x40000007).Tpm2B(new byte[32]).Tpm2B([]).U8(0).U16(0x0010).U16(0x000B).Build();
        yield return new TpmCommand(0x146).Tpm2B("stir"u8.ToArray()).Build();
        yield return TpmCommand.GetRandom(16);
    }
}
