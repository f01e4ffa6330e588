namespace FastPath.Dataplane.Ports;

/// <summary>Where a port may write one received frame: a start pointer and the bytes available there.</summary>
public readonly unsafe struct RxBuffer(byte* data, int capacity)
{
    /// <summary>First byte the frame is written to.</summary>
    public readonly byte* Data = data;

    /// <summary>Bytes available from <see cref="Data"/>; longer frames are dropped and counted by the port.</summary>
    public readonly int Capacity = capacity;
}
