using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastPath.Dataplane.Parsing;

/// <summary>Two 32-byte vectors per frame; every compared byte sits in the first.</summary>
/// <remarks>Thread-safe: a value owned by one loop iteration.</remarks>
internal unsafe struct Vector256Kernel : IParseKernel<Vector256Kernel>
{
    private Vector256<byte> _v0;
    private Vector256<byte> _v1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256Kernel Load(byte* frame) => new()
    {
        _v0 = Vector256.Load(frame),
        _v1 = Vector256.Load(frame + 32),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int Shape(byte* frame)
    {
        // Unrolled so every template address is a constant; the commonest shape (untagged IPv4) is tried first.
        // A branch-free guess from the EtherTypes followed by one compare measured slower even on a VLAN/untagged mix.
        return Matches(_v0, 0) ? 0 : Matches(_v0, 1) ? 1 : Matches(_v0, 2) ? 2 : Matches(_v0, 3) ? 3 : -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Matches(Vector256<byte> bytes, int shape) =>
        ((bytes ^ Vector256.Load(ParseShapes.MatchTemplate(shape))) & Vector256.Load(ParseShapes.MatchMask(shape))) == Vector256<byte>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(int template, ref PacketMeta meta)
    {
        byte* indices = ParseShapes.ShuffleIndices(template);
        Vector256<byte> record;
        if (Avx2.IsSupported)
        {
            // vpshufb works within 128-bit lanes: pair chunks (0, 2) and (1, 3) so lane 0 builds bytes 0–15 of
            // the record and lane 1 bytes 16–31.
            Vector256<byte> even = Avx2.Permute2x128(_v0, _v1, 0x20);
            Vector256<byte> odd = Avx2.Permute2x128(_v0, _v1, 0x31);
            record = Avx2.Shuffle(even, Vector256.Load(indices)) | Avx2.Shuffle(odd, Vector256.Load(indices + 32));
        }
        else
        {
            Vector128<byte> low = Vector128Kernel.Shuffle(_v0.GetLower(), Vector128.Load(indices)) | Vector128Kernel.Shuffle(_v0.GetUpper(), Vector128.Load(indices + 32));
            Vector128<byte> high = Vector128Kernel.Shuffle(_v1.GetLower(), Vector128.Load(indices + 16)) | Vector128Kernel.Shuffle(_v1.GetUpper(), Vector128.Load(indices + 48));
            record = Vector256.Create(low, high);
        }

        record &= Vector256.Load(ParseShapes.AndMask);
        record = (record.AsUInt16() + Vector256.Load((ushort*)ParseShapes.Constants(template))).AsByte();
        record.StoreUnsafe(ref Unsafe.As<PacketMeta, byte>(ref meta));
    }
}
