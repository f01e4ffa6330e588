namespace FastPath.Dataplane.Parsing;

/// <summary>Which implementation of <see cref="HeaderParser"/> runs; all produce identical <see cref="PacketMeta"/>.</summary>
public enum ParserPath
{
    /// <summary>Plain loads and compares: the reference twin every vector path is tested against.</summary>
    Scalar = 0,

    /// <summary>Four 16-byte vectors per frame (SSE2 / AdvSimd).</summary>
    Vector128 = 1,

    /// <summary>Two 32-byte vectors per frame (AVX2).</summary>
    Vector256 = 2,

    /// <summary>One 64-byte vector per frame (AVX-512).</summary>
    Vector512 = 3,
}
