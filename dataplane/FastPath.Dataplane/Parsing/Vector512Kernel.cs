using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace FastPath.Dataplane.Parsing;

/// <summary>One 64-byte vector per frame: the whole window in a single load.</summary>
/// <remarks>Thread-safe: a value owned by one loop iteration.</remarks>
internal unsafe struct Vector512Kernel : IParseKernel<Vector512Kernel>
{
    private Vector512<byte> _v;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512Kernel Load(byte* frame) => new() { _v = Vector512.Load(frame) };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int Shape(byte* frame)
    {
        // Unrolled so every template address is a constant; the commonest shape (untagged IPv4) is tried first.
        // A branch-free guess from the EtherTypes followed by one compare measured slower even on a VLAN/untagged mix.
        return Matches(_v, 0) ? 0 : Matches(_v, 1) ? 1 : Matches(_v, 2) ? 2 : Matches(_v, 3) ? 3 : -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Matches(Vector512<byte> bytes, int shape) =>
        ((bytes ^ Vector512.Load(ParseShapes.MatchTemplate(shape))) & Vector512.Load(ParseShapes.MatchMask(shape))) == Vector512<byte>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Store(int template, ref PacketMeta meta)
    {
        byte* indices = ParseShapes.ShuffleIndices(template);
        Vector256<byte> record;
        if (Avx512BW.IsSupported)
        {
            // Reorder the 16-byte chunks to 0, 2, 1, 3 so that one in-lane vpshufb builds record bytes 0–15 from
            // chunks 0 and 1 in lanes 0 and 2, bytes 16–31 from chunks 2 and 3 in lanes 1 and 3; OR the halves.
            Vector512<byte> ordered = Avx512F.PermuteVar8x64(_v.AsUInt64(), Vector512.Create(0ul, 1, 4, 5, 2, 3, 6, 7)).AsByte();
            Vector512<byte> shuffled = Avx512BW.Shuffle(ordered, Vector512.Load(indices));
            record = shuffled.GetLower() | shuffled.GetUpper();
        }
        else
        {
            Vector128<byte> low = Vector128Kernel.Shuffle(_v.GetLower().GetLower(), Vector128.Load(indices)) | Vector128Kernel.Shuffle(_v.GetLower().GetUpper(), Vector128.Load(indices + 32));
            Vector128<byte> high = Vector128Kernel.Shuffle(_v.GetUpper().GetLower(), Vector128.Load(indices + 16)) | Vector128Kernel.Shuffle(_v.GetUpper().GetUpper(), Vector128.Load(indices + 48));
            record = Vector256.Create(low, high);
        }

        record &= Vector256.Load(ParseShapes.AndMask);
        record = (record.AsUInt16() + Vector256.Load((ushort*)ParseShapes.Constants(template))).AsByte();
        record.StoreUnsafe(ref Unsafe.As<PacketMeta, byte>(ref meta));
    }
}
