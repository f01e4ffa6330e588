using System.Runtime.InteropServices;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Tests.Infrastructure;

namespace FastPath.Dataplane.Tests.Parsing;

/// <summary>Every vector path against its scalar twin, field for field, on frames in one batch and on guarded frames.</summary>
public sealed unsafe class HeaderParserDifferentialTests
{
    [Fact]
    public void Every_path_agrees_with_scalar_on_every_layer_combination_and_every_truncation()
    {
        List<byte[]> frames = TestCorpus.CombinationsAndTruncations();
        Assert.True(frames.Count > 100_000, $"corpus has {frames.Count} frames");
        AssertPathsAgree(frames);
    }

    [Fact]
    public void Every_path_agrees_with_scalar_on_random_bytes_and_mutated_frames()
    {
        AssertPathsAgree(TestCorpus.RandomAndMutated(seed: 4, count: 200_000));
    }

    [Fact]
    public void The_dispatching_overloads_agree_with_scalar()
    {
        List<byte[]> frames = TestCorpus.RandomAndMutated(seed: 6, count: 5_000);
        frames.AddRange(TestCorpus.Combinations().Select(spec => spec.Build()));
        var viaBest = new PacketMeta[1];
        foreach (byte[] frame in frames)
        {
            PacketMeta expected = default;
            fixed (byte* p = frame)
            {
                HeaderParser.ParseFrame(p, frame.Length, ref expected);
                ReadOnlySpan<FrameView> views = [new FrameView(p, frame.Length)];
                HeaderParser.Parse(views, viaBest);
                AssertSame(HeaderParser.Best, frame, expected, viaBest[0]);
            }

            AssertSame(HeaderParser.Best, frame, expected, HeaderParser.ParseOne(frame));
        }
    }

    [Fact]
    public void Every_path_stays_inside_frames_that_end_at_a_guard_page()
    {
        // Eight guarded frames per batch so the vector loop's prefetch-ahead and per-frame dispatch run as in production.
        const int BatchSize = 8;
        var guards = new GuardedFrames[BatchSize];
        for (int g = 0; g < BatchSize; g++)
        {
            guards[g] = new GuardedFrames(512);
        }

        try
        {
            List<byte[]> frames = TestCorpus.CombinationsAndTruncations();
            frames.AddRange(TestCorpus.RandomAndMutated(seed: 5, count: 20_000));
            var views = new FrameView[BatchSize];
            var expected = new PacketMeta[BatchSize];
            var actual = new PacketMeta[BatchSize];
            for (int start = 0; start < frames.Count; start += BatchSize)
            {
                int n = Math.Min(BatchSize, frames.Count - start);
                for (int j = 0; j < n; j++)
                {
                    byte[] frame = frames[start + j];
                    views[j] = new FrameView(guards[j].Place(frame), frame.Length);
                }

                HeaderParser.Parse(ParserPath.Scalar, views.AsSpan(0, n), expected);
                foreach (ParserPath path in ParserHarness.VectorPaths)
                {
                    HeaderParser.Parse(path, views.AsSpan(0, n), actual);
                    for (int j = 0; j < n; j++)
                    {
                        AssertSame(path, frames[start + j], expected[j], actual[j]);
                    }
                }
            }
        }
        finally
        {
            foreach (GuardedFrames guard in guards)
            {
                guard.Dispose();
            }
        }
    }

    [Theory]
    [InlineData(TagMode.None, 4, (byte)17)]
    [InlineData(TagMode.Vlan, 4, (byte)6)]
    [InlineData(TagMode.None, 4, (byte)1)]
    [InlineData(TagMode.None, 6, (byte)6)]
    [InlineData(TagMode.Vlan, 6, (byte)17)]
    [InlineData(TagMode.Vlan, 6, (byte)58)]
    public void Each_common_shape_takes_the_vector_fast_path_and_matches_scalar(TagMode tag, int version, byte protocol)
    {
        byte[] frame = new TestFrame { Tag = tag, IpVersion = version, Protocol = protocol, TcpOptions = protocol == 6 ? 8 : 0, Payload = 30, Padding = 4 }.Build();
        Assert.True(frame.Length >= ParseShapes.WindowLength);
        using var guard = new GuardedFrames(frame.Length);
        byte* p = guard.Place(frame);
        PacketMeta expected = default;
        HeaderParser.ParseFrame(p, frame.Length, ref expected);
        Assert.Equal(DropReason.None, expected.Verdict);

        AssertFastPath<Vector128Kernel>(p, frame, expected);
        AssertFastPath<Vector256Kernel>(p, frame, expected);
        AssertFastPath<Vector512Kernel>(p, frame, expected);
    }

    [Fact]
    public void Frames_the_fast_path_must_not_judge_are_left_to_scalar()
    {
        foreach (byte[] frame in new[]
        {
            new TestFrame { Ipv4Options = 4, Payload = 40 }.Build(),
            new TestFrame { Fragment = FragmentState.First, Payload = 40 }.Build(),
            new TestFrame { IpVersion = 6, Extensions = [0], Payload = 40 }.Build(),
            new TestFrame { Protocol = 47, Payload = 40 }.Build(),
            new TestFrame { Tag = TagMode.QinQ, Payload = 40 }.Build(),
            WithByte(new TestFrame { Payload = 40 }.Build(), 24, 0x00), // Wrong IPv4 checksum.
        })
        {
            using var guard = new GuardedFrames(frame.Length);
            byte* p = guard.Place(frame);
            PacketMeta meta = default;
            Assert.False(HeaderParser.TryParseCommon<Vector512Kernel>(p, frame.Length, ref meta));
            Assert.False(HeaderParser.TryParseCommon<Vector128Kernel>(p, frame.Length, ref meta));
        }
    }

    private static void AssertFastPath<TKernel>(byte* p, byte[] frame, PacketMeta expected)
        where TKernel : struct, IParseKernel<TKernel>
    {
        PacketMeta actual = default;
        Assert.True(HeaderParser.TryParseCommon<TKernel>(p, frame.Length, ref actual), typeof(TKernel).Name);
        AssertSame(ParserPath.Scalar, frame, expected, actual);
    }

    private static byte[] WithByte(byte[] frame, int offset, byte value)
    {
        frame[offset] = value;
        return frame;
    }

    private static void AssertPathsAgree(List<byte[]> frames)
    {
        // One pinned buffer with the frames back to back, as a receive ring would hold them.
        int total = frames.Sum(f => f.Length);
        byte[] buffer = GC.AllocateArray<byte>(total, pinned: true);
        var views = new FrameView[frames.Count];
        fixed (byte* start = buffer)
        {
            int offset = 0;
            for (int i = 0; i < frames.Count; i++)
            {
                frames[i].CopyTo(buffer, offset);
                views[i] = new FrameView(start + offset, frames[i].Length);
                offset += frames[i].Length;
            }

            var expected = new PacketMeta[frames.Count];
            var actual = new PacketMeta[frames.Count];
            HeaderParser.Parse(ParserPath.Scalar, views, expected);
            foreach (ParserPath path in ParserHarness.VectorPaths)
            {
                // Batches of varied size, as a receive burst would deliver them.
                actual.AsSpan().Clear();
                for (int first = 0, size = 1; first < views.Length; first += size, size = (size * 7 % 257) + 1)
                {
                    int n = Math.Min(size, views.Length - first);
                    HeaderParser.Parse(path, views.AsSpan(first, n), actual.AsSpan(first, n));
                }

                for (int i = 0; i < frames.Count; i++)
                {
                    AssertSame(path, frames[i], expected[i], actual[i]);
                }
            }
        }
    }

    private static void AssertSame(ParserPath path, byte[] frame, PacketMeta expected, PacketMeta actual)
    {
        ReadOnlySpan<byte> e = MemoryMarshal.AsBytes(new ReadOnlySpan<PacketMeta>(in expected));
        ReadOnlySpan<byte> a = MemoryMarshal.AsBytes(new ReadOnlySpan<PacketMeta>(in actual));
        if (!e.SequenceEqual(a))
        {
            Assert.Fail($"{path} differs from scalar on frame {Convert.ToHexString(frame)}\n scalar {Convert.ToHexString(e)}\n {path} {Convert.ToHexString(a)}");
        }
    }
}
