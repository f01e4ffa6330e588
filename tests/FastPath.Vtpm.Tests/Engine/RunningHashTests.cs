using System.Security.Cryptography;
using FastPath.Vtpm.Engine;

namespace FastPath.Vtpm.Tests.Engine;

/// <summary>The exportable hash against System.Security.Cryptography: every length around the block and padding
/// boundaries, split at arbitrary points, exported and imported in the middle.</summary>
public sealed class RunningHashTests
{
    public static TheoryData<ushort> Algorithms => [TpmConstants.AlgSha1, TpmConstants.AlgSha256, TpmConstants.AlgSha384, TpmConstants.AlgSha512];

    private static byte[] Reference(ushort alg, ReadOnlySpan<byte> data) => alg switch
    {
        TpmConstants.AlgSha1 => SHA1.HashData(data),
        TpmConstants.AlgSha256 => SHA256.HashData(data),
        TpmConstants.AlgSha384 => SHA384.HashData(data),
        _ => SHA512.HashData(data),
    };

    private static byte[] Digest(RunningHash hash)
    {
        byte[] digest = new byte[HashAlgorithms.MaxDigestSize];
        return digest[..hash.Finish(digest)];
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Every_length_up_to_three_large_blocks_matches_the_platform_hash(ushort alg)
    {
        byte[] data = new byte[3 * 128 + 17];
        new Random(alg).NextBytes(data);
        for (int length = 0; length <= data.Length; length++)
        {
            RunningHash hash = RunningHash.Create(alg);
            hash.Append(data.AsSpan(0, length));
            Assert.Equal(Reference(alg, data.AsSpan(0, length)), Digest(hash));
        }
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Random_chunking_with_an_export_and_import_at_every_chunk_matches_the_platform_hash(ushort alg)
    {
        var random = new Random(1000 + alg);
        for (int round = 0; round < 200; round++)
        {
            byte[] data = new byte[random.Next(0, 5000)];
            random.NextBytes(data);
            RunningHash hash = RunningHash.Create(alg);
            int offset = 0;
            while (offset < data.Length)
            {
                int chunk = Math.Min(random.Next(0, 300), data.Length - offset);
                hash.Append(data.AsSpan(offset, chunk));
                offset += chunk;
                byte[] state = hash.ExportState();
                Assert.Equal(state.Length, hash.StateSize);
                hash = RunningHash.ImportState(alg, state, "the test");
                Assert.Equal(state, hash.ExportState());
                Assert.Equal((ulong)offset, hash.Count);
            }

            Assert.Equal(Reference(alg, data), Digest(hash));
        }
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void Finish_leaves_the_running_state_as_it_was(ushort alg)
    {
        RunningHash hash = RunningHash.Create(alg);
        hash.Append("first part"u8);
        byte[] before = hash.ExportState();
        Assert.Equal(Reference(alg, "first part"u8), Digest(hash));
        Assert.Equal(before, hash.ExportState());
        hash.Append(", second part"u8);
        Assert.Equal(Reference(alg, "first part, second part"u8), Digest(hash));
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public void A_state_of_the_wrong_length_is_refused_naming_the_sequence(ushort alg)
    {
        RunningHash hash = RunningHash.Create(alg);
        hash.Append(new byte[70]);
        byte[] state = hash.ExportState();

        InvalidDataException truncated = Assert.Throws<InvalidDataException>(() => RunningHash.ImportState(alg, state[..^1], "sequence X"));
        Assert.Contains("sequence X", truncated.Message);
        Assert.Contains("truncated", truncated.Message);

        InvalidDataException tooShortForWords = Assert.Throws<InvalidDataException>(() => RunningHash.ImportState(alg, state[..10], "sequence X"));
        Assert.Contains("truncated", tooShortForWords.Message);

        InvalidDataException tooLong = Assert.Throws<InvalidDataException>(() => RunningHash.ImportState(alg, [.. state, 0], "sequence X"));
        Assert.Contains("too long", tooLong.Message);
    }
}
