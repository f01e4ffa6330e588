using System.Buffers.Binary;
using FastPath.Dataplane.Mapping;

namespace FastPath.Bench.Mapping;

/// <summary>Key sets and lookup streams for the mapping benchmarks: uniform or Zipf-skewed over the present keys.</summary>
internal static class MappingKeyStream
{
    /// <summary>Lookups per stream: long enough that a 1M or 16M table is not walked in cache-friendly order.</summary>
    internal const int StreamLength = 1 << 20;

    /// <summary>
    /// Mapping n: user (tenant n % 4095, 10.0.0.0/8 + n) for 3 of 4, (tenant, fd00::n) for every 4th;
    /// secure 100.0.0.0/8 + n (n's top byte added to the first octet) or 2001:db8::n.
    /// </summary>
    internal static MappingEntry Entry(int n)
    {
        Span<byte> user = stackalloc byte[16];
        Span<byte> secure = stackalloc byte[16];
        user.Clear();
        secure.Clear();
        if ((n & 3) == 3)
        {
            BinaryPrimitives.WriteUInt16BigEndian(user, 0xfd00);
            BinaryPrimitives.WriteInt32BigEndian(user[12..], n);
            BinaryPrimitives.WriteUInt32BigEndian(secure, 0x2001_0db8);
            BinaryPrimitives.WriteInt32BigEndian(secure[12..], n);
            return new MappingEntry(MappingKey.FromBytes((ushort)(n % 4095), user), MappingKey.FromBytes(0, secure));
        }

        BinaryPrimitives.WriteInt32BigEndian(user, (10 << 24) | (n & 0xFF_FFFF));
        BinaryPrimitives.WriteInt32BigEndian(secure, (int)((uint)((n >> 24) + 100) << 24) | (n & 0xFF_FFFF));
        return new MappingEntry(MappingKey.FromBytes((ushort)(n % 4095), user[..4]), MappingKey.FromBytes(0, secure[..4]));
    }

    /// <summary>Indices into [0, count): uniform, or Zipf with exponent 0.99 (YCSB's skew) over a random permutation of ranks.</summary>
    internal static int[] Indices(int count, bool zipf, int seed)
    {
        var random = new Random(seed);
        int[] stream = new int[StreamLength];
        if (!zipf)
        {
            for (int i = 0; i < stream.Length; i++)
            {
                stream[i] = random.Next(count);
            }

            return stream;
        }

        // CDF of rank^-0.99, sampled by binary search; ranks land on random keys so hot keys are scattered.
        double[] cdf = new double[count];
        double sum = 0;
        for (int rank = 0; rank < count; rank++)
        {
            sum += Math.Pow(rank + 1, -0.99);
            cdf[rank] = sum;
        }

        int[] permutation = new int[count];
        for (int i = 0; i < count; i++)
        {
            permutation[i] = i;
        }

        random.Shuffle(permutation);
        for (int i = 0; i < stream.Length; i++)
        {
            int rank = Array.BinarySearch(cdf, random.NextDouble() * sum);
            stream[i] = permutation[rank < 0 ? Math.Min(~rank, count - 1) : rank];
        }

        return stream;
    }
}
