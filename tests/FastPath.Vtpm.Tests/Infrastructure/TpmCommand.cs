using System.Buffers.Binary;

namespace FastPath.Vtpm.Tests.Infrastructure;

/// <summary>Builds TPM 2.0 command buffers by hand (big-endian), independent of the engine's own marshalling.</summary>
/// <remarks>Not thread-safe; build one command per instance.</remarks>
internal sealed class TpmCommand
{
    private readonly List<byte> _bytes = [];
    private readonly List<byte> _auth = [];
    private readonly List<byte> _parameters = [];
    private readonly List<uint> _handles = [];
    private readonly uint _code;

    public TpmCommand(uint code) => _code = code;

    public TpmCommand Handle(uint handle)
    {
        _handles.Add(handle);
        return this;
    }

    /// <summary>Adds a password session (TPM_RS_PW) with <paramref name="password"/>.</summary>
    public TpmCommand Password(byte[]? password = null)
    {
        Put(_auth, 0x40000009u);
        Put(_auth, (ushort)0);
        _auth.Add(0);
        Put(_auth, (ushort)(password?.Length ?? 0));
        _auth.AddRange(password ?? []);
        return this;
    }

    /// <summary>Adds a session entry with any handle (an HMAC or policy session's nonce and HMAC as given).</summary>
    public TpmCommand Session(uint handle, byte[] nonce, byte[] hmac, byte attributes = 1)
    {
        Put(_auth, handle);
        Put(_auth, (ushort)nonce.Length);
        _auth.AddRange(nonce);
        _auth.Add(attributes);
        Put(_auth, (ushort)hmac.Length);
        _auth.AddRange(hmac);
        return this;
    }

    public TpmCommand U8(byte value)
    {
        _parameters.Add(value);
        return this;
    }

    public TpmCommand U16(ushort value)
    {
        Put(_parameters, value);
        return this;
    }

    public TpmCommand U32(uint value)
    {
        Put(_parameters, value);
        return this;
    }

    public TpmCommand Bytes(byte[] value)
    {
        _parameters.AddRange(value);
        return this;
    }

    public TpmCommand Tpm2B(byte[] value)
    {
        Put(_parameters, (ushort)value.Length);
        _parameters.AddRange(value);
        return this;
    }

    public byte[] Build()
    {
        _bytes.Clear();
        bool sessions = _auth.Count > 0;
        Put(_bytes, sessions ? (ushort)0x8002 : (ushort)0x8001);
        Put(_bytes, 0u);
        Put(_bytes, _code);
        foreach (uint handle in _handles)
        {
            Put(_bytes, handle);
        }

        if (sessions)
        {
            Put(_bytes, (uint)_auth.Count);
            _bytes.AddRange(_auth);
        }

        _bytes.AddRange(_parameters);
        byte[] command = [.. _bytes];
        BinaryPrimitives.WriteUInt32BigEndian(command.AsSpan(2), (uint)command.Length);
        return command;
    }

    public static byte[] StartupClear() => new TpmCommand(0x144).U16(0).Build();

    public static byte[] GetRandom(ushort count) => new TpmCommand(0x17B).U16(count).Build();

    public static byte[] PcrExtendSha256(uint pcr, byte[] digest) =>
        new TpmCommand(0x182).Handle(pcr).Password().U32(1).U16(0x000B).Bytes(digest).Build();

    public static byte[] PcrReadSha256(uint pcr)
    {
        byte[] select = new byte[3];
        select[pcr / 8] = (byte)(1 << (int)(pcr % 8));
        return new TpmCommand(0x17E).U32(1).U16(0x000B).U8(3).Bytes(select).Build();
    }

    public static byte[] NvDefineOwner(uint index, ushort size, uint attributes = 0x00020002) =>
        new TpmCommand(0x12A).Handle(0x40000001).Password().Tpm2B([])
            .U16(14).U32(index).U16(0x000B).U32(attributes).U16(0).U16(size).Build();

    public static byte[] NvWriteOwner(uint index, byte[] data, ushort offset) =>
        new TpmCommand(0x137).Handle(0x40000001).Handle(index).Password().Tpm2B(data).U16(offset).Build();

    public static byte[] NvReadOwner(uint index, ushort size, ushort offset) => NvReadOwnerWithPassword(index, size, offset, []);

    public static byte[] NvReadOwnerWithPassword(uint index, ushort size, ushort offset, byte[] password) =>
        new TpmCommand(0x14E).Handle(0x40000001).Handle(index).Password(password).U16(size).U16(offset).Build();

    private static void Put(List<byte> list, ushort value)
    {
        list.Add((byte)(value >> 8));
        list.Add((byte)value);
    }

    private static void Put(List<byte> list, uint value)
    {
        list.Add((byte)(value >> 24));
        list.Add((byte)(value >> 16));
        list.Add((byte)(value >> 8));
        list.Add((byte)value);
    }
}
