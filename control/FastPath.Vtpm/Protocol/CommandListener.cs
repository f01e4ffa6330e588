using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using FastPath.Vtpm.Engine;
using Pipelines.Sockets.Unofficial;

namespace FastPath.Vtpm.Protocol;

/// <summary>The command channel: TPM command bytes in, response bytes out, framed only by the TPM header's
/// size field. A header whose size is impossible (below 10 or above the maximum command size) gets its TPM
/// error response and the connection is closed, because the byte stream cannot be re-framed after it.</summary>
/// <remarks>Thread-safe: each connection has its own buffers; execution is serialized by the server.</remarks>
internal sealed class CommandListener(TpmBackend server) : SocketServer
{
    protected override Task OnClientConnectedAsync(in ClientConnection client) => ServeAsync(client.Transport);

    private async Task ServeAsync(IDuplexPipe transport)
    {
        byte[] command = new byte[TpmConstants.MaxCommandSize];
        byte[] response = new byte[TpmEngine.ResponseBufferSize];
        PipeReader input = transport.Input;
        PipeWriter output = transport.Output;
        bool open = true;
        while (open)
        {
            ReadResult read = await input.ReadAsync().ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = read.Buffer;
            Frame frame = TryFrame(buffer, read.IsCompleted, out int length);
            if (frame == Frame.NeedMore)
            {
                input.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }

                continue;
            }

            buffer.Slice(0, length).CopyTo(command);
            input.AdvanceTo(buffer.GetPosition(length));
            ValueTask<int> executed = server.ExecuteAsync(command, length, response);
            int responseLength = executed.IsCompletedSuccessfully ? executed.Result : await executed.ConfigureAwait(false);

            output.Write(response.AsSpan(0, responseLength));
            FlushResult flushed = await output.FlushAsync().ConfigureAwait(false);
            open = frame == Frame.Complete && !flushed.IsCompleted;
        }

        await input.CompleteAsync().ConfigureAwait(false);
        await output.CompleteAsync().ConfigureAwait(false);
    }

    private enum Frame
    {
        NeedMore,
        Complete,

        /// <summary>Execute what there is (the engine answers the size/format error), then close.</summary>
        Broken,
    }

    private static Frame TryFrame(ReadOnlySequence<byte> buffer, bool completed, out int length)
    {
        length = 0;
        if (buffer.Length < TpmConstants.HeaderSize)
        {
            if (completed && buffer.Length > 0)
            {
                length = (int)buffer.Length;
                return Frame.Broken;
            }

            return Frame.NeedMore;
        }

        Span<byte> header = stackalloc byte[TpmConstants.HeaderSize];
        buffer.Slice(0, TpmConstants.HeaderSize).CopyTo(header);
        uint size = BinaryPrimitives.ReadUInt32BigEndian(header[2..]);
        if (size < TpmConstants.HeaderSize || size > TpmConstants.MaxCommandSize)
        {
            length = TpmConstants.HeaderSize;
            return Frame.Broken;
        }

        if (buffer.Length < size)
        {
            if (completed)
            {
                // The size field promised more than the client sent before closing its side.
                length = (int)buffer.Length;
                return Frame.Broken;
            }

            return Frame.NeedMore;
        }

        length = (int)size;
        return Frame.Complete;
    }
}
