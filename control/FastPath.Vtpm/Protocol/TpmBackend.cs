using System.Buffers.Binary;
using FastPath.Vtpm.Engine;

namespace FastPath.Vtpm.Protocol;

/// <summary>What the swtpm command and control channels drive: one engine (<see cref="SwtpmServer"/>) or the
/// high-availability pair's I/O controller (<see cref="Pair.PairController"/>).</summary>
/// <remarks>Implementations are thread-safe: the listeners call them from many connections at once.</remarks>
public abstract class TpmBackend
{
    /// <summary>Runs one TPM command; the returned length of <paramref name="response"/> (at least
    /// <see cref="VtpmEngine.ResponseBufferSize"/> bytes) may leave only when the task completes, because by
    /// then the command's effect is as durable as the backend promises.</summary>
    internal abstract ValueTask<int> ExecuteAsync(byte[] command, int length, byte[] response);

    internal abstract void SetLocality(byte locality);

    internal abstract void PowerCycle();

    internal abstract void RequestShutdown();

    internal abstract byte[] GetStateBlob(byte type);

    internal abstract ValueTask<bool> SetStateBlobAsync(byte type, byte[] blob);

    /// <summary>Writes a bare TPM_RC_NV_UNAVAILABLE response (state could not be made durable).</summary>
    internal static int NvUnavailable(Span<byte> response) => Bare(response, TpmRc.NvUnavailable);

    /// <summary>Writes a header-only response with <paramref name="code"/>.</summary>
    internal static int Bare(Span<byte> response, uint code)
    {
        BinaryPrimitives.WriteUInt16BigEndian(response, TpmConstants.StNoSessions);
        BinaryPrimitives.WriteUInt32BigEndian(response[2..], TpmConstants.HeaderSize);
        BinaryPrimitives.WriteUInt32BigEndian(response[6..], code);
        return TpmConstants.HeaderSize;
    }
}
