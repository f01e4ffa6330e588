using System.Buffers.Binary;
using FastPath.Vtpm.Engine;

namespace FastPath.Vtpm.Tests.Infrastructure;

/// <summary>Runs commands on an in-process engine and returns exact-length responses.</summary>
/// <remarks>Not thread-safe.</remarks>
internal sealed class EngineHarness(TpmEngine engine)
{
    private readonly byte[] _response = new byte[TpmEngine.ResponseBufferSize];

    public TpmEngine Engine { get; } = engine;

    public byte[] Run(ReadOnlySpan<byte> command)
    {
        int length = Engine.Execute(command, _response);
        return _response.AsSpan(0, length).ToArray();
    }

    public uint Code(ReadOnlySpan<byte> command) => BinaryPrimitives.ReadUInt32BigEndian(Run(command).AsSpan(6));
}
