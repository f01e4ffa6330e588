namespace FastPath.Vtpm.Engine;

/// <summary>One defined NV index: its public area (TPMS_NV_PUBLIC), auth value and data.</summary>
/// <remarks>Owned by the engine; touched only by the executing thread.</remarks>
internal sealed class NvIndex
{
    public required uint Handle { get; init; }

    public required ushort NameAlg { get; init; }

    public required uint Attributes { get; set; }

    public required byte[] AuthPolicy { get; init; }

    public required ushort DataSize { get; init; }

    public required byte[] Auth { get; set; }

    public required byte[] Data { get; init; }

    public uint Type => (Attributes & TpmConstants.NvTypeMask) >> 4;

    public bool Written => (Attributes & TpmConstants.NvWritten) != 0;

    /// <summary>TPMS_NV_PUBLIC as marshalled on the wire (the Name hashes exactly these bytes).</summary>
    public void WritePublic(ref TpmWriter writer)
    {
        writer.U32(Handle);
        writer.U16(NameAlg);
        writer.U32(Attributes);
        writer.Tpm2B(AuthPolicy);
        writer.U16(DataSize);
    }

    /// <summary>The Name: nameAlg || H(TPMS_NV_PUBLIC). Returns its length.</summary>
    public int ComputeName(Span<byte> destination)
    {
        Span<byte> buffer = stackalloc byte[16 + HashAlgorithms.MaxDigestSize];
        var writer = new TpmWriter(buffer, 0);
        WritePublic(ref writer);
        destination[0] = (byte)(NameAlg >> 8);
        destination[1] = (byte)NameAlg;
        return 2 + HashAlgorithms.Hash(NameAlg, writer.Written, destination[2..]);
    }
}
