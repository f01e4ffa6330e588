using System.Numerics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// The receive-side-scaling hash that spreads flows over workers: a keyed mix of the IPv4 5-tuple, so every packet
/// of a flow reaches the same worker (per-flow order is kept) and nobody outside can aim all flows at one worker.
/// </summary>
/// <remarks>
/// NICs use a Toeplitz hash with a secret key for the same purpose; a multiply-xorshift mix keyed with a random
/// per-process seed is cheaper in software and spreads as well. Thread-safe: the key is set once.
/// </remarks>
public static class RssHash
{
    private static readonly ulong s_key = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)) | 1;

    /// <summary>Hash of (source, destination, source port, destination port, protocol).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Compute(uint source, uint destination, ushort sourcePort, ushort destinationPort, byte protocol)
    {
        ulong x = ((ulong)source << 32 | destination) ^ s_key;
        x ^= ((ulong)sourcePort << 24 | (ulong)destinationPort << 8 | protocol) * 0xBF58_476D_1CE4_E5B9UL;
        x = (x ^ (x >> 31)) * 0x94D0_49BB_1331_11EBUL;
        x ^= BitOperations.RotateRight(x, 29);
        return (uint)(x >> 32);
    }
}
