namespace FastPath.Bench.Parsing;

/// <summary>Which parser a benchmark case runs: a forced <c>HeaderParser</c> path, or the PacketDotNet anchor.</summary>
public enum ParserUnderTest
{
    PacketDotNet,
    Scalar,
    Vector128,
    Vector256,
    Vector512,
}
