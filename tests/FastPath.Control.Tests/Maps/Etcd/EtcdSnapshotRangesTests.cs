using System.Text;
using FastPath.Control.Maps.Etcd;
using Google.Protobuf;

namespace FastPath.Control.Tests.Maps.Etcd;

/// <summary>The snapshot's sub-ranges (read concurrently at one revision) cover the generation's user range exactly:
/// contiguous, disjoint, from the prefix to its range end, so no key is read twice or missed.</summary>
public sealed class EtcdSnapshotRangesTests
{
    private const string Prefix = "/fastpath/maps/g/20261204T000000-0000abcd/u/";

    [Fact]
    public void The_ranges_are_contiguous_disjoint_and_cover_the_user_range()
    {
        (ByteString From, ByteString End)[] ranges = EtcdMapStore.SnapshotRanges(Prefix);
        Assert.Equal(Encoding.UTF8.GetBytes(Prefix), ranges[0].From.ToByteArray());
        Assert.Equal(EtcdKeys.RangeEnd(Prefix).ToByteArray(), ranges[^1].End.ToByteArray());
        for (int i = 0; i < ranges.Length; i++)
        {
            Assert.True(Compare(ranges[i].From, ranges[i].End) < 0, $"range {i} is empty or reversed");
            if (i > 0)
            {
                Assert.Equal(ranges[i - 1].End.ToByteArray(), ranges[i].From.ToByteArray());
            }
        }
    }

    [Theory]
    [InlineData("0/198.18.1.5", 1)]
    [InlineData("123/10.0.0.1", 2)]
    [InlineData("3999/10.1.2.3", 4)]
    [InlineData("9/10.1.2.3", 10)]
    [InlineData("~retired", 11)]
    [InlineData("-1/10.0.0.1", 0)]
    public void Each_key_falls_in_exactly_one_range(string name, int expected)
    {
        ByteString key = ByteString.CopyFromUtf8(Prefix + name);
        (ByteString From, ByteString End)[] ranges = EtcdMapStore.SnapshotRanges(Prefix);
        int[] holding = [.. Enumerable.Range(0, ranges.Length).Where(i => Compare(ranges[i].From, key) <= 0 && Compare(key, ranges[i].End) < 0)];
        Assert.Equal([expected], holding);
    }

    private static int Compare(ByteString a, ByteString b) => a.Span.SequenceCompareTo(b.Span);
}
