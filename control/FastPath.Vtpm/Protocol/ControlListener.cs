using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using FastPath.Vtpm.Engine;
using System.Net.Sockets;

namespace FastPath.Vtpm.Protocol;

/// <summary>The control channel (swtpm-ioctls(3), "control commands over socket"): a big-endian u32 CMD_*
/// code, a fixed request body per code, a response starting with a u32 result. Unknown codes answer
/// 0x0a (TPM_BAD_ORDINAL) after dropping what the client sent with them, as swtpm does. CMD_SHUTDOWN,
/// CMD_GET_STATEBLOB and CMD_SET_STATEBLOB (stop the TPM; read or replace its seeds and auth values) are answered
/// 0x08 (TPM_DISABLED_CMD) unless <see cref="AllowStateCommands"/>: on a TCP port every local user can connect.</summary>
/// <remarks>Thread-safe: per-connection state only; TPM access goes through the server's lock.</remarks>
internal sealed class ControlListener(TpmBackend server) : PipeListener
{
    /// <summary>swtpm's buffer size bounds: this engine's buffer is fixed at the maximum command size.</summary>
    private const uint BufferSize = TpmConstants.MaxCommandSize;

    /// <summary>Whether shutdown and the state blobs are served (a 0600 Unix socket, or TCP by explicit choice).</summary>
    public bool AllowStateCommands { get; init; }

    protected override Task OnClientConnectedAsync(IDuplexPipe transport, Socket client) => ServeAsync(transport);

    private async Task ServeAsync(IDuplexPipe transport)
    {
        PipeReader input = transport.Input;
        PipeWriter output = transport.Output;
        while (true)
        {
            ReadResult read = await input.ReadAsync().ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = read.Buffer;
            bool wrote = false;
            while (TryHandle(ref buffer, output))
            {
                wrote = true;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (wrote)
            {
                await output.FlushAsync().ConfigureAwait(false);
            }

            if (read.IsCompleted)
            {
                break;
            }
        }

        await input.CompleteAsync().ConfigureAwait(false);
        await output.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>Handles one complete control command at the start of <paramref name="buffer"/>.</summary>
    private bool TryHandle(ref ReadOnlySequence<byte> buffer, PipeWriter output)
    {
        if (buffer.Length < 4)
        {
            return false;
        }

        uint code = ReadU32(buffer, 0);
        long bodyLength = code switch
        {
            ControlCommand.Init or ControlCommand.SetBufferSize => 4,
            ControlCommand.SetLocality or ControlCommand.ResetTpmEstablished => 1,
            // swtpm's ptm_getstate request: u32 state flags, u32 blob type, u32 offset.
            ControlCommand.GetStateBlob => 12,
            // swtpm's ptm_setstate request: u32 state flags, u32 blob type, u32 length, then the data.
            ControlCommand.SetStateBlob => buffer.Length >= 16 ? 12 + (long)ReadU32(buffer, 12) : 12,
            ControlCommand.GetCapability or ControlCommand.Shutdown or ControlCommand.GetTpmEstablished or ControlCommand.CancelTpmCommand
                or ControlCommand.StoreVolatile or ControlCommand.Stop or ControlCommand.GetConfig => 0,
            _ => buffer.Length - 4,
        };
        if (code == ControlCommand.SetStateBlob && buffer.Length < 16)
        {
            return false;
        }

        if (bodyLength > 16 + (1 << 20))
        {
            Result(output, ControlCommand.ResultBadParameter);
            buffer = buffer.Slice(buffer.End);
            return true;
        }

        if (buffer.Length < 4 + bodyLength)
        {
            return false;
        }

        byte[] body = buffer.Slice(4, bodyLength).ToArray();
        buffer = buffer.Slice(4 + bodyLength);
        if (!AllowStateCommands && code is ControlCommand.Shutdown or ControlCommand.GetStateBlob or ControlCommand.SetStateBlob)
        {
            Result(output, ControlCommand.ResultDisabledCommand);
            return true;
        }

        switch (code)
        {
            case ControlCommand.GetCapability:
                Result(output, ControlCommand.ResultSuccess, ControlCommand.Capabilities);
                break;
            case ControlCommand.Init:
                server.PowerCycle();
                Result(output, ControlCommand.ResultSuccess);
                break;
            case ControlCommand.Shutdown:
                Result(output, ControlCommand.ResultSuccess);
                server.RequestShutdown();
                break;
            case ControlCommand.Stop:
                // swtpm stops the TPM so SET_STATEBLOB may replace it; CMD_INIT starts it again. The engine has
                // nothing to stop: the power cycle (or the resume of a set volatile blob) happens at CMD_INIT.
                Result(output, ControlCommand.ResultSuccess);
                break;
            case ControlCommand.GetTpmEstablished:
                // result, then the establishment bit and three bytes of structure padding.
                Result(output, ControlCommand.ResultSuccess, 0);
                break;
            case ControlCommand.SetLocality:
                if (body[0] > 4)
                {
                    Result(output, ControlCommand.ResultBadLocality);
                    break;
                }

                server.SetLocality(body[0]);
                Result(output, ControlCommand.ResultSuccess);
                break;
            case ControlCommand.ResetTpmEstablished:
            case ControlCommand.CancelTpmCommand:
            case ControlCommand.StoreVolatile:
                // Every change is already durable when it is acknowledged; there is no volatile file to store.
                Result(output, ControlCommand.ResultSuccess);
                break;
            case ControlCommand.GetConfig:
                Result(output, ControlCommand.ResultSuccess, 0);
                break;
            case ControlCommand.SetBufferSize:
                uint requested = BinaryPrimitives.ReadUInt32BigEndian(body);
                if (requested != 0 && requested != BufferSize)
                {
                    Result(output, ControlCommand.ResultBadOrdinal);
                    break;
                }

                Result(output, ControlCommand.ResultSuccess, BufferSize, BufferSize, BufferSize);
                break;
            case ControlCommand.GetStateBlob:
                GetStateBlob(output, body);
                break;
            case ControlCommand.SetStateBlob:
                uint setType = BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(4));
                bool ok = setType <= byte.MaxValue
                    && server.SetStateBlobAsync((byte)setType, body.AsSpan(12).ToArray()).AsTask().GetAwaiter().GetResult();
                Result(output, ok ? ControlCommand.ResultSuccess : ControlCommand.ResultBadParameter);
                break;
            default:
                Result(output, ControlCommand.ResultBadOrdinal);
                break;
        }

        return true;
    }

    private void GetStateBlob(PipeWriter output, byte[] body)
    {
        uint type = BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(4));
        uint offset = BinaryPrimitives.ReadUInt32BigEndian(body.AsSpan(8));
        byte[] blob = type <= byte.MaxValue ? server.GetStateBlob((byte)type) : [];
        int start = (int)Math.Min(offset, (uint)blob.Length);
        Span<byte> header = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(header, ControlCommand.ResultSuccess);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(header[8..], (uint)blob.Length);
        BinaryPrimitives.WriteUInt32BigEndian(header[12..], (uint)(blob.Length - start));
        output.Write(header);
        output.Write(blob.AsSpan(start));
    }

    private static void Result(PipeWriter output, uint result, params ReadOnlySpan<uint> values)
    {
        Span<byte> bytes = stackalloc byte[4 + (4 * values.Length)];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, result);
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes[(4 + (4 * i))..], values[i]);
        }

        output.Write(bytes);
    }

    private static uint ReadU32(ReadOnlySequence<byte> buffer, long offset)
    {
        Span<byte> bytes = stackalloc byte[4];
        buffer.Slice(offset, 4).CopyTo(bytes);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }
}
