using System.Buffers.Binary;
using FastPath.Dataplane.Mapping;

namespace FastPath.Dataplane.Tests.Mapping;

/// <summary>Deterministic keys and entries for the mapping tests: user 10.x / fd00::x, secure 198.18.x / 2001:db8::x.</summary>
internal static class MappingTestKeys
{
    internal static MappingKey User(int n, bool v6 = false)
    {
        ushort tenant = (ushort)(n % 4095);
        return v6 ? MappingKey.FromBytes(tenant, V6(0xfd00, n)) : MappingKey.FromBytes(tenant, V4(10, n));
    }

    internal static MappingKey Secure(int n, bool v6 = false, int generation = 0) =>
        v6 ? MappingKey.FromBytes(0, V6(0x2001_0db8 + generation, n)) : MappingKey.FromBytes(0, V4((byte)(198 + generation), n));

    internal static MappingEntry Entry(int n, bool v6 = false, int generation = 0) => new(User(n, v6), Secure(n, v6, generation));

    internal static MappingEntry EntryFor(int n) => Entry(n, v6: (n & 1) != 0);

    internal static byte[] V4(byte first, int n)
    {
        byte[] bytes = new byte[4];
        bytes[0] = first;
        bytes[1] = (byte)(n >> 16);
        bytes[2] = (byte)(n >> 8);
        bytes[3] = (byte)n;
        return bytes;
    }

    internal static byte[] V6(int prefix, int n)
    {
        byte[] bytes = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(bytes, prefix);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), n);
        bytes[8] = (byte)(n * 7);
        return bytes;
    }
}
