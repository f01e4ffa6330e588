using System.Buffers.Binary;
using FastPath.Vtpm.Engine;

namespace FastPath.Vtpm.Tests.Infrastructure;

/// <summary>Runs commands on an in-process engine (libtpms: one per process, so its tests are in the
/// <see cref="InProcessLibtpms"/> collection) and returns exact-length responses; disposing it releases the engine.</summary>
/// <remarks>Not thread-safe.</remarks>
internal sealed class EngineHarness(VtpmEngine engine) : IDisposable
{
    private readonly byte[] _response = new byte[VtpmEngine.ResponseBufferSize];

    public VtpmEngine Engine { get; } = engine;

    public void Dispose() => Engine.Dispose();

    public byte[] Run(ReadOnlySpan<byte> command)
    {
        int length = Engine.Execute(command, _response);
        return _response.AsSpan(0, length).ToArray();
    }

    public uint Code(ReadOnlySpan<byte> command) => BinaryPrimitives.ReadUInt32BigEndian(Run(command).AsSpan(6));
}
