using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace FastPath.Dataplane.Memory;

/// <summary>DEBUG-only ownership tracking: one bit per frame, set while allocated; release builds compile these calls away.</summary>
internal sealed partial class FramePool
{
#if DEBUG
    private ulong[] _allocated = [];
#endif

    [Conditional("DEBUG")]
    private void InitializeDebugTracking()
    {
#if DEBUG
        _allocated = new ulong[(_frameCount + 63) / 64];
#endif
    }

    [Conditional("DEBUG")]
    private void TrackAllocated(uint index) => TrackAllocated(new ReadOnlySpan<uint>(in index));

    [Conditional("DEBUG")]
    private void TrackAllocated(ReadOnlySpan<uint> indices)
    {
#if DEBUG
        foreach (uint index in indices)
        {
            ulong bit = 1ul << (int)(index & 63);
            if ((Interlocked.Or(ref _allocated[index >> 6], bit) & bit) != 0)
            {
                ThrowCorrupt(index);
            }
        }
#endif
    }

    [Conditional("DEBUG")]
    private void TrackFreed(ReadOnlySpan<uint> indices)
    {
#if DEBUG
        for (int i = 0; i < indices.Length; i++)
        {
            uint index = indices[i];
            ulong bit = 1ul << (int)(index & 63);
            if ((Interlocked.And(ref _allocated[index >> 6], ~bit) & bit) == 0)
            {
                // Undo this call's earlier clears so the pool state matches what the ring will hold (nothing of this call).
                for (int j = 0; j < i; j++)
                {
                    Interlocked.Or(ref _allocated[indices[j] >> 6], 1ul << (int)(indices[j] & 63));
                }

                ThrowDoubleFree(index);
            }
        }
#endif
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDoubleFree(uint index) =>
        throw new InvalidOperationException($"frame {index} freed twice (it is not allocated)");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowCorrupt(uint index) =>
        throw new InvalidOperationException($"frame {index} handed out while already allocated: the free ring holds it twice");
}
