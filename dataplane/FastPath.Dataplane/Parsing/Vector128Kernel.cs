using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastPath.Dataplane.Parsing;

/// <summary>Four 16-byte chunks per frame; the shape compare uses one 16-byte window at byte 12.</summary>
/// <remarks>Thread-safe: a value owned by one loop iteration.</remarks>
internal unsafe struct Vector128Kernel : IParseKernel<Vector128Kernel>
{
    private Vector128<byte> _c0;
    private Vector128<byte> _c1;
    private Vector128<byte> _c2;
    private Vector128<byte> _c3;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128Kernel Load(byte* frame) => new()
    {
        _c0 = Vector128.Load(frame),
        _c1 = Vector128.Load(frame + 16),
        _c2 = Vector128.Load(frame + 32),
        _c3 = Vector128.Load(frame + 48),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int Shape(byte* frame)
    {
        // Every compared byte lies in 12..27, which straddles two chunks: one extra (L1-hot) load is cheaper
        // than comparing both chunks against every shape.
        Vector128<byte> window = Vector128.Load(frame + ParseShapes.ClassifyOffset);
        // Unrolled so every template address is a constant; the commonest shape (untagged IPv4) is tried first.
        // A branch-free guess from the EtherTypes followed by one compare measured slower even on a VLAN/untagged mix.
        return Matches(window, 0) ? 0 : Matches(window, 1) ? 1 : Matches(window, 2) ? 2 : Matches(window, 3) ? 3 : -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Matches(Vector128<byte> bytes, int shape) =>
        ((bytes ^ Vector128.Load(ParseShapes.MatchTemplate(shape) + ParseShapes.ClassifyOffset)) & Vector128.Load(ParseShapes.MatchMask(shape) + ParseShapes.ClassifyOffset)) == Vector128<byte>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(int template, ref PacketMeta meta)
    {
        byte* indices = ParseShapes.ShuffleIndices(template);
        byte* constants = ParseShapes.Constants(template);
        Vector128<byte> low = Shuffle(_c0, Vector128.Load(indices)) | Shuffle(_c1, Vector128.Load(indices + 32));
        Vector128<byte> high = Shuffle(_c2, Vector128.Load(indices + 16)) | Shuffle(_c3, Vector128.Load(indices + 48));
        low &= Vector128.Load(ParseShapes.AndMask);
        low = (low.AsUInt16() + Vector128.Load((ushort*)constants)).AsByte();
        high = (high.AsUInt16() + Vector128.Load((ushort*)(constants + 16))).AsByte();
        ref byte record = ref Unsafe.As<PacketMeta, byte>(ref meta);
        low.StoreUnsafe(ref record);
        high.StoreUnsafe(ref record, 16);
    }

    /// <summary>pshufb: index bytes with the top bit set give 0 (as out-of-range indices do in <see cref="Vector128.Shuffle(Vector128{byte}, Vector128{byte})"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<byte> Shuffle(Vector128<byte> chunk, Vector128<byte> indices) =>
        Ssse3.IsSupported ? Ssse3.Shuffle(chunk, indices) : Vector128.Shuffle(chunk, indices);
}
