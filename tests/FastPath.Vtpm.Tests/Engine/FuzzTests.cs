using System.Buffers.Binary;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Engine;

/// <summary>Random and mutated command buffers: every one gets a well-formed response (a tag, a size field
/// equal to the length, a code), and none reaches the engine's failure path (TPM_RC_FAILURE would mean an
/// exception inside a handler).</summary>
public sealed class FuzzTests
{
    private const int Iterations = 20_000;

    [Fact]
    public void Random_and_mutated_commands_always_get_a_well_formed_response_and_never_a_failure()
    {
        var random = new Random(20261125);
        var failures = new List<Exception>();
        var harness = new EngineHarness(new TpmEngine(new SeededRandomSource(1)) { FailureObserved = failures.Add });
        harness.Run(TpmCommand.StartupClear());
        byte[][] seeds = [.. Seeds()];
        for (int i = 0; i < Iterations; i++)
        {
            byte[] command = (i % 4) switch
            {
                0 => RandomBytes(random),
                1 => RandomHeader(random),
                _ => Mutate(random, seeds[random.Next(seeds.Length)]),
            };
            byte[] response = harness.Run(command);
            Assert.True(response.Length >= 10, $"iteration {i}: response of {response.Length} bytes");
            ushort tag = BinaryPrimitives.ReadUInt16BigEndian(response);
            Assert.Contains(tag, new ushort[] { 0x8001, 0x8002, 0x00C4 });
            Assert.Equal((uint)response.Length, BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(2)));
            Assert.True(failures.Count == 0, $"iteration {i}: {Convert.ToHexString(command)} hit the failure path: {(failures.Count > 0 ? failures[0] : null)}");
        }
    }

    private static IEnumerable<byte[]> Seeds()
    {
        yield return TpmCommand.GetRandom(32);
        yield return TpmCommand.PcrExtendSha256(16, new byte[32]);
        yield return TpmCommand.PcrReadSha256(3);
        yield return TpmCommand.NvDefineOwner(0x01500020, 16);
        yield return TpmCommand.NvWriteOwner(0x01500020, [1, 2, 3], 4);
        yield return TpmCommand.NvReadOwner(0x01500020, 4, 0);
        yield return new TpmCommand(0x176).Handle(0x40000007).Handle(0x40000007).Tpm2B(new byte[32]).Tpm2B([]).U8(0).U16(0x0010).U16(0x000B).Build();
        yield return new TpmCommand(0x17A).U32(6).U32(0x100).U32(127).Build();
        yield return new TpmCommand(0x17A).U32(1).U32(0x01000000).U32(254).Build();
        yield return new TpmCommand(0x17D).Tpm2B([1, 2, 3]).U16(0x000B).U32(0x40000001).Build();
        yield return new TpmCommand(0x186).Tpm2B([]).U16(0x000B).Build();
        yield return new TpmCommand(0x15C).Handle(0x80000000).Password().Tpm2B([5, 6]).Build();
        yield return new TpmCommand(0x13E).Handle(0x80000000).Password().Tpm2B([]).U32(0x40000001).Build();
        yield return new TpmCommand(0x162).Handle(0x02000000).Build();
        yield return new TpmCommand(0x165).U32(0x02000000).Build();
        yield return new TpmCommand(0x13C).Handle(16).Password().Tpm2B([1]).Build();
        yield return new TpmCommand(0x129).Handle(0x40000001).Password().Tpm2B([]).Build();
        yield return new TpmCommand(0x134).Handle(0x40000001).Handle(0x01500020).Password().Build();
        yield return new TpmCommand(0x169).Handle(0x01500020).Build();
        yield return new TpmCommand(0x145).U16(1).Build();
    }

    private static byte[] RandomBytes(Random random)
    {
        byte[] bytes = new byte[random.Next(0, 64)];
        random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>A valid-looking header (tag, consistent size, a real command code) over random parameters.</summary>
    private static byte[] RandomHeader(Random random)
    {
        byte[] bytes = new byte[random.Next(10, 200)];
        random.NextBytes(bytes);
        BinaryPrimitives.WriteUInt16BigEndian(bytes, random.Next(2) == 0 ? (ushort)0x8001 : (ushort)0x8002);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(2), (uint)bytes.Length);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(6), (uint)random.Next(0x11F, 0x19A));
        return bytes;
    }

    /// <summary>Flips, overwrites, truncates or extends a valid command, keeping the size field consistent half the time.</summary>
    private static byte[] Mutate(Random random, byte[] seed)
    {
        byte[] bytes = random.Next(4) switch
        {
            0 => seed[..random.Next(0, seed.Length)],
            1 => [.. seed, .. RandomBytes(random)],
            _ => (byte[])seed.Clone(),
        };
        int flips = random.Next(1, 4);
        for (int f = 0; f < flips && bytes.Length > 0; f++)
        {
            bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
        }

        if (bytes.Length >= 10 && random.Next(2) == 0)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(2), (uint)bytes.Length);
        }

        return bytes;
    }
}
