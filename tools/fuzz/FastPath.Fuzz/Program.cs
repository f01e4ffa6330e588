using System.Runtime.InteropServices;
using FastPath.Dataplane.Parsing;
using SharpFuzz;

namespace FastPath.Fuzz;

/// <summary>
/// afl++ target: each input is one frame. Every parser path parses it flush against a guard page (an over-read is a
/// SIGSEGV, which afl++ counts as a crash), and any path whose record differs from the scalar twin's throws (also a crash).
/// </summary>
/// <remarks>
/// Run through <c>tools/fuzz/run.sh</c>. Not thread-safe: one fuzz loop per process.
/// </remarks>
public static unsafe class Program
{
    private const int MaxFrame = 4096;

    public static void Main()
    {
        var guard = new GuardedFrame(MaxFrame / 4096);
        byte[] input = new byte[MaxFrame];
        Fuzzer.OutOfProcess.Run(stream =>
        {
            int length = stream.ReadAtLeast(input, MaxFrame, throwOnEndOfStream: false);
            ParseEveryPath(guard.Place(input.AsSpan(0, length)), length);
        });
    }

    private static void ParseEveryPath(byte* frame, int length)
    {
        ReadOnlySpan<FrameView> frames = [new FrameView(frame, length)];
        PacketMeta expected = default;
        HeaderParser.Parse(ParserPath.Scalar, frames, new Span<PacketMeta>(ref expected));
        foreach (ParserPath path in (ReadOnlySpan<ParserPath>)[ParserPath.Vector128, ParserPath.Vector256, ParserPath.Vector512])
        {
            PacketMeta actual = default;
            HeaderParser.Parse(path, frames, new Span<PacketMeta>(ref actual));
            ReadOnlySpan<byte> e = MemoryMarshal.AsBytes(new ReadOnlySpan<PacketMeta>(in expected));
            ReadOnlySpan<byte> a = MemoryMarshal.AsBytes(new ReadOnlySpan<PacketMeta>(in actual));
            if (!e.SequenceEqual(a))
            {
                throw new InvalidOperationException($"{path} record {Convert.ToHexString(a)} differs from scalar {Convert.ToHexString(e)}");
            }
        }
    }
}
