using System.Buffers.Binary;
using System.Security.Cryptography;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Engine;

/// <summary>Open hash and event sequences are part of the full state: they survive SerializeState → RestoreState
/// into another engine, both continue to the digest of the whole data, and the state digest sees them.</summary>
public sealed class HashSequenceStateTests
{
    private static readonly byte[] SequenceAuth = "sequence-auth"u8.ToArray();

    public static TheoryData<ushort> Algorithms => [TpmConstants.AlgSha1, TpmConstants.AlgSha256, TpmConstants.AlgSha384, TpmConstants.AlgSha512];

    private static EngineHarness Started(int seed)
    {
        var harness = new EngineHarness(new TpmEngine(new SeededRandomSource(seed)));
        Assert.Equal(0u, harness.Code(TpmCommand.StartupClear()));
        return harness;
    }

    private static uint StartSequence(EngineHarness harness, ushort alg)
    {
        byte[] response = harness.Run(new TpmCommand(TpmCc.HashSequenceStart).Tpm2B(SequenceAuth).U16(alg).Build());
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6)));
        return BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(10));
    }

    private static void Update(EngineHarness harness, uint handle, byte[] data) =>
        Assert.Equal(0u, harness.Code(new TpmCommand(TpmCc.SequenceUpdate).Handle(handle).Password(SequenceAuth).Tpm2B(data).Build()));

    private static byte[] Complete(EngineHarness harness, uint handle, byte[] data)
    {
        byte[] response = harness.Run(new TpmCommand(TpmCc.SequenceComplete).Handle(handle).Password(SequenceAuth).Tpm2B(data).U32(TpmConstants.RhOwner).Build());
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6)));
        return response;
    }

    private static byte[] CompleteEvent(EngineHarness harness, uint pcr, uint handle, byte[] data)
    {
        byte[] response = harness.Run(new TpmCommand(TpmCc.EventSequenceComplete).Handle(pcr).Handle(handle).Password().Password(SequenceAuth).Tpm2B(data).Build());
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6)));
        return response;
    }

    private static byte[] Reference(ushort alg, ReadOnlySpan<byte> data) => alg switch
    {
        TpmConstants.AlgSha1 => SHA1.HashData(data),
        TpmConstants.AlgSha256 => SHA256.HashData(data),
        TpmConstants.AlgSha384 => SHA384.HashData(data),
        _ => SHA512.HashData(data),
    };

    private static byte[][] Chunks(int seed)
    {
        var random = new Random(seed);
        byte[][] chunks = [new byte[1000], new byte[37], new byte[1024], new byte[129], new byte[5]];
        foreach (byte[] chunk in chunks)
        {
            random.NextBytes(chunk);
        }

        return chunks;
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void A_hash_sequence_moved_to_another_engine_completes_on_both_to_the_digest_of_all_data(ushort alg)
    {
        byte[][] chunks = Chunks(alg);
        EngineHarness source = Started(21);
        uint handle = StartSequence(source, alg);
        Update(source, handle, chunks[0]);
        Update(source, handle, chunks[1]);

        var target = new EngineHarness(new TpmEngine(new SeededRandomSource(22)));
        byte[] blob = source.Engine.SerializeState();
        target.Engine.RestoreState(blob);
        Assert.Equal(blob, target.Engine.SerializeState());
        Assert.Equal(source.Engine.StateDigest(), target.Engine.StateDigest());

        foreach (EngineHarness harness in (EngineHarness[])[source, target])
        {
            Update(harness, handle, chunks[2]);
            Update(harness, handle, chunks[3]);
        }

        Assert.Equal(source.Engine.StateDigest(), target.Engine.StateDigest());
        byte[] fromSource = Complete(source, handle, chunks[4]);
        byte[] fromTarget = Complete(target, handle, chunks[4]);
        Assert.Equal(fromSource, fromTarget);

        int size = BinaryPrimitives.ReadUInt16BigEndian(fromSource.AsSpan(14));
        Assert.Equal(Reference(alg, chunks.SelectMany(c => c).ToArray()), fromSource.AsSpan(16, size).ToArray());
        Assert.Equal(source.Engine.StateDigest(), target.Engine.StateDigest());
        Assert.Equal(0x18Bu, source.Code(new TpmCommand(TpmCc.SequenceUpdate).Handle(handle).Password(SequenceAuth).Tpm2B([1]).Build()));
    }

    [Fact]
    public void An_event_sequence_moved_to_another_engine_extends_every_bank_identically_on_both()
    {
        byte[][] chunks = Chunks(23);
        EngineHarness source = Started(24);
        uint handle = StartSequence(source, TpmConstants.AlgNull);
        Update(source, handle, chunks[0]);
        Update(source, handle, chunks[1]);

        var target = new EngineHarness(new TpmEngine(new SeededRandomSource(25)));
        target.Engine.RestoreState(source.Engine.SerializeState());
        Assert.Equal(source.Engine.StateDigest(), target.Engine.StateDigest());
        foreach (EngineHarness harness in (EngineHarness[])[source, target])
        {
            Update(harness, handle, chunks[2]);
            Update(harness, handle, chunks[3]);
        }

        byte[] fromSource = CompleteEvent(source, 16, handle, chunks[4]);
        byte[] fromTarget = CompleteEvent(target, 16, handle, chunks[4]);
        Assert.Equal(fromSource, fromTarget);
        Assert.Equal(source.Engine.StateDigest(), target.Engine.StateDigest());

        // TPML_DIGEST_VALUES after the parameter size: one digest per bank, in bank order.
        byte[] all = chunks.SelectMany(c => c).ToArray();
        int offset = 14;
        Assert.Equal(4u, BinaryPrimitives.ReadUInt32BigEndian(fromSource.AsSpan(offset)));
        offset += 4;
        byte[] sha256 = [];
        foreach (ushort alg in (ushort[])[TpmConstants.AlgSha1, TpmConstants.AlgSha256, TpmConstants.AlgSha384, TpmConstants.AlgSha512])
        {
            Assert.Equal(alg, BinaryPrimitives.ReadUInt16BigEndian(fromSource.AsSpan(offset)));
            byte[] expected = Reference(alg, all);
            Assert.Equal(expected, fromSource.AsSpan(offset + 2, expected.Length).ToArray());
            sha256 = alg == TpmConstants.AlgSha256 ? expected : sha256;
            offset += 2 + expected.Length;
        }

        byte[] pcr = source.Run(TpmCommand.PcrReadSha256(16));
        Assert.Equal(SHA256.HashData([.. new byte[32], .. sha256]), pcr.AsSpan(pcr.Length - 32).ToArray());
        Assert.Equal(pcr, target.Run(TpmCommand.PcrReadSha256(16)));
    }

    [Fact]
    public void An_event_sequence_moved_to_another_engine_keeps_every_bank_in_step_with_an_engine_that_never_moved()
    {
        byte[][] chunks = Chunks(32);
        EngineHarness source = Started(33);
        EngineHarness witness = Started(33);
        uint handle = StartSequence(source, TpmConstants.AlgNull);
        Assert.Equal(handle, StartSequence(witness, TpmConstants.AlgNull));
        Update(source, handle, chunks[0]);
        Update(source, handle, chunks[1]);

        var target = new EngineHarness(new TpmEngine(new SeededRandomSource(34)));
        target.Engine.RestoreState(source.Engine.SerializeState());
        foreach (EngineHarness harness in (EngineHarness[])[source, target])
        {
            Update(harness, handle, chunks[2]);
        }

        // The running state of every bank depends on the data only, not on how it was chunked or moved.
        Update(witness, handle, chunks[0][..500]);
        Update(witness, handle, [.. chunks[0][500..], .. chunks[1]]);
        Update(witness, handle, chunks[2]);
        Assert.Equal(source.Engine.StateDigest(), target.Engine.StateDigest());
        Assert.Equal(source.Engine.StateDigest(), witness.Engine.StateDigest());
        Update(target, handle, [0]);
        Assert.NotEqual(source.Engine.StateDigest(), target.Engine.StateDigest());
    }

    [Fact]
    public void State_digests_differ_while_one_sequence_has_an_extra_or_different_update_and_agree_after_the_same_updates()
    {
        EngineHarness a = Started(26);
        EngineHarness b = Started(26);
        uint handle = StartSequence(a, TpmConstants.AlgSha256);
        Assert.Equal(handle, StartSequence(b, TpmConstants.AlgSha256));
        Assert.Equal(a.Engine.StateDigest(), b.Engine.StateDigest());

        Update(a, handle, [1, 2, 3]);
        Assert.NotEqual(a.Engine.StateDigest(), b.Engine.StateDigest());
        Update(b, handle, [1, 2, 4]);
        Assert.NotEqual(a.Engine.StateDigest(), b.Engine.StateDigest());

        // The same length on both but different bytes across a block boundary: only the chaining words differ.
        EngineHarness c = Started(26);
        EngineHarness d = Started(26);
        StartSequence(c, TpmConstants.AlgSha256);
        StartSequence(d, TpmConstants.AlgSha256);
        byte[] x = new byte[64];
        byte[] y = new byte[64];
        y[10] = 1;
        Update(c, handle, x);
        Update(d, handle, y);
        Assert.NotEqual(c.Engine.StateDigest(), d.Engine.StateDigest());
        Update(c, handle, y);
        Update(d, handle, x);
        Assert.NotEqual(c.Engine.StateDigest(), d.Engine.StateDigest());

        EngineHarness e = Started(26);
        StartSequence(e, TpmConstants.AlgSha256);
        Update(e, handle, [1, 2, 3]);
        Assert.Equal(a.Engine.StateDigest(), e.Engine.StateDigest());
        Update(a, handle, new byte[200]);
        Assert.NotEqual(a.Engine.StateDigest(), e.Engine.StateDigest());
        Update(e, handle, new byte[200]);
        Assert.Equal(a.Engine.StateDigest(), e.Engine.StateDigest());
        Assert.Equal(a.Engine.SerializeState(), e.Engine.SerializeState());
    }

    [Fact]
    public void A_blob_with_a_truncated_hash_state_is_refused_naming_the_sequence()
    {
        EngineHarness source = Started(27);
        uint handle = StartSequence(source, TpmConstants.AlgSha256);
        Update(source, handle, new byte[100]);
        byte[] blob = source.Engine.SerializeState();

        // The sequence's hash state is the last field: 8 chaining words, the u64 count, 100 mod 64 tail bytes.
        int stateSize = 32 + 8 + 36;
        int prefix = blob.Length - stateSize - 4;
        Assert.Equal((uint)stateSize, BinaryPrimitives.ReadUInt32BigEndian(blob.AsSpan(prefix)));
        byte[] shortened = blob[..^1];
        BinaryPrimitives.WriteUInt32BigEndian(shortened.AsSpan(prefix), (uint)stateSize - 1);

        var target = new TpmEngine(new SeededRandomSource(28));
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => target.RestoreState(shortened));
        Assert.Contains("hash state of sequence 0x80000000 bank 0x000b is truncated", error.Message);

        InvalidDataException cut = Assert.Throws<InvalidDataException>(() => target.RestoreState(blob[..^1]));
        Assert.Contains("sequence.hashState", cut.Message);

        InvalidDataException trailing = Assert.Throws<InvalidDataException>(() => target.RestoreState([.. blob, 0]));
        Assert.Contains("after the end", trailing.Message);
    }

    [Fact]
    public void A_version_1_blob_loads_without_sequences_and_an_unknown_version_is_refused()
    {
        EngineHarness source = Started(29);
        foreach (byte[] command in EngineTests.Workload())
        {
            source.Run(command);
        }

        byte[] blob = source.Engine.SerializeState();
        Assert.Equal(2, BinaryPrimitives.ReadUInt16BigEndian(blob.AsSpan(4)));

        // Version 1 ended after the sessions; version 2 appends the sequence count (zero here).
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(blob.AsSpan(blob.Length - 4)));
        byte[] version1 = blob[..^4];
        BinaryPrimitives.WriteUInt16BigEndian(version1.AsSpan(4), 1);
        var target = new TpmEngine(new SeededRandomSource(30));
        target.RestoreState(version1);
        Assert.Equal(source.Engine.StateDigest(), target.StateDigest());

        byte[] version3 = [.. blob];
        BinaryPrimitives.WriteUInt16BigEndian(version3.AsSpan(4), 3);
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => target.RestoreState(version3));
        Assert.Contains("version 3 is not supported", error.Message);
    }

    [Fact]
    public void Event_sequence_complete_refuses_a_plain_hash_sequence_and_keeps_it_open()
    {
        EngineHarness harness = Started(31);
        uint handle = StartSequence(harness, TpmConstants.AlgSha256);
        byte[] response = harness.Run(new TpmCommand(TpmCc.EventSequenceComplete).Handle(16).Handle(handle).Password().Password(SequenceAuth).Tpm2B([]).Build());
        Assert.Equal(0x289u, BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6))); // TPM_RC_MODE on handle 2
        Update(harness, handle, [1]);
    }
}
