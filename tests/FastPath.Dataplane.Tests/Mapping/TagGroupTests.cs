using System.Runtime.Intrinsics;
using FastPath.Dataplane.Mapping;

namespace FastPath.Dataplane.Tests.Mapping;

public sealed unsafe class TagGroupTests
{
    [Fact]
    public void A_bucket_is_one_cache_line_of_12_tags_4_reserved_bytes_and_12_entry_indices()
    {
        Assert.Equal(64, MappingStore.BucketSize);
        Assert.Equal(MappingStore.BucketSize, TagGroup.Slots + 4 + (TagGroup.Slots * sizeof(uint)));
        Assert.Equal(16, MappingStore.SlotIndexOffset);
        Assert.Equal(64, MappingEntryLayout.Size);
        Assert.Equal(20, sizeof(MappingKey));
        Assert.Equal(24, sizeof(MappingResult));
    }

    [Fact]
    public void Vector_match_equals_the_SWAR_twin_for_random_buckets_and_every_tag()
    {
        var random = new Random(5);
        byte* bucket = stackalloc byte[64];
        for (int round = 0; round < 2000; round++)
        {
            // Small alphabets make repeated tags (several matches per bucket) common; reserved bytes random.
            int alphabet = round % 3 == 0 ? 4 : 256;
            for (int i = 0; i < 64; i++)
            {
                bucket[i] = (byte)random.Next(alphabet);
            }

            for (int tag = 0; tag < 256; tag++)
            {
                uint vector = TagGroup.Match(bucket, (byte)tag, out uint empty);
                Assert.Equal(Reference(bucket, (byte)tag), vector);
                Assert.Equal(TagGroup.MatchScalar(bucket, (byte)tag), vector);
                Assert.Equal(Reference(bucket, 0), empty);
            }

            Assert.Equal(Reference(bucket, 0) | Reference(bucket, 1), TagGroup.MatchFree(bucket));
        }
    }

    [Fact]
    public void The_reserved_bytes_after_the_12_tags_never_match()
    {
        byte* bucket = stackalloc byte[64];
        new Span<byte>(bucket, 64).Fill(7);
        Assert.Equal(TagGroup.SlotMask, TagGroup.MatchScalar(bucket, 7));
        Assert.Equal(TagGroup.SlotMask, TagGroup.Match(bucket, 7, out _));
        new Span<byte>(bucket, 12).Fill(9);
        Assert.Equal(0u, TagGroup.MatchScalar(bucket, 7));
        Assert.Equal(0u, TagGroup.Match(bucket, 7, out uint empty));
        Assert.Equal(0u, empty);
    }

    [Fact]
    public void Tags_of_full_slots_are_never_the_empty_or_deleted_markers()
    {
        for (ulong top = 0; top < 256; top++)
        {
            byte tag = TagGroup.TagOf(top << 56);
            Assert.True(tag >= 2, $"top byte {top} gave tag {tag}");
        }
    }

    [Fact]
    public void The_vector_path_is_what_this_run_exercises()
    {
        // The suite is rerun with DOTNET_EnableHWIntrinsic=0 (tools/test.sh), where this is false and
        // Match takes the scalar path; both runs check the same expectations above.
        Assert.Equal(Vector128.IsHardwareAccelerated, Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") != "0");
    }

    private static uint Reference(byte* bucket, byte tag)
    {
        uint mask = 0;
        for (int i = 0; i < TagGroup.Slots; i++)
        {
            if (bucket[i] == tag)
            {
                mask |= 1u << i;
            }
        }

        return mask;
    }
}
