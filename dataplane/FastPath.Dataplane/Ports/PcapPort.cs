using System.Runtime.CompilerServices;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports.Segmentation;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// A port over capture files, for replay: RX reads frames from a pcap/pcapng file in order, TX appends frames to
/// another (in the input's format when there is an input, else pcapng).
/// </summary>
/// <remarks>
/// TX timestamps are the RX timestamp of the last frame received (replay keeps the capture's clock), or the
/// wall clock when the port has no input. Concurrency: one worker thread calls <see cref="Receive"/> and
/// <see cref="Transmit"/>; the counters are read anywhere.
/// </remarks>
public sealed unsafe class PcapPort : PacketPort
{
    private readonly CaptureReader? _reader;
    private readonly CaptureWriter? _writer;
    private readonly SoftwareOffload? _offload;
    private long _timestamp;
    private bool _exhausted;
    private string? _outputError;

    /// <summary>Opens <paramref name="input"/> for RX and/or creates <paramref name="output"/> for TX (either may be null).</summary>
    /// <exception cref="CaptureFileException">The input is not a valid capture.</exception>
    public PcapPort(string name, string? input, string? output)
        : base(name)
    {
        if (input is null && output is null)
        {
            throw new ArgumentException("a pcap port needs an input file, an output file, or both");
        }

        _reader = input is null ? null : CaptureReader.Open(input);
        _writer = output is null ? null : CaptureWriter.Create(output, _reader?.Format ?? new CaptureFormat(CaptureFileKind.PcapNg, Nanoseconds: true));
        _exhausted = _reader is null;
        _offload = output is null ? null : new SoftwareOffload();
    }

    /// <summary>True once every frame of the input has been received (always true without an input).</summary>
    public bool Exhausted => Volatile.Read(ref _exhausted);

    /// <summary>Frames written to the output.</summary>
    public long Written => Counters.TxPackets;

    /// <summary>
    /// Why the output stopped (<c>Broken pipe</c>: a FIFO whose reader went away, <c>No space left on device</c>…), or
    /// null while it works. From the first failed write on, the port writes nothing more: every frame handed to it is
    /// taken and counted in <see cref="PortCounters.TxErrors"/> (errno in <see cref="PortCounters.TxLastErrno"/>).
    /// </summary>
    public string? OutputError => Volatile.Read(ref _outputError);

    /// <inheritdoc />
    public override int Receive(ReadOnlySpan<RxBuffer> buffers, Span<FrameView> frames)
    {
        if (_exhausted)
        {
            return 0;
        }

        PortCounters counters = Counters;
        int count = 0;
        while (count < buffers.Length && count < frames.Length)
        {
            if (!_reader!.TryReadNext(out CapturedPacket packet))
            {
                Volatile.Write(ref _exhausted, true);
                break;
            }

            RxBuffer buffer = buffers[count];
            if (packet.Data.Length > buffer.Capacity)
            {
                Volatile.Write(ref counters._rxTooBig, counters._rxTooBig + 1);
                continue;
            }

            packet.Data.CopyTo(new Span<byte>(buffer.Data, buffer.Capacity));
            frames[count++] = new FrameView(buffer.Data, packet.Data.Length);
            _timestamp = packet.TimestampNanoseconds;
            Volatile.Write(ref counters._rxBytes, counters._rxBytes + packet.Data.Length);
        }

        Volatile.Write(ref counters._rxPackets, counters._rxPackets + count);

        return count;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The file shows frames as a wire would: a GSO super-frame is written as its segments and a partial checksum is
    /// completed (<see cref="SoftwareOffload"/>); a super-frame that cannot be cut is written whole, as it came.
    /// </remarks>
    public override int Transmit(ReadOnlySpan<FrameView> frames, ReadOnlySpan<PacketMeta> meta)
    {
        if (_writer is null)
        {
            return 0;
        }

        PortCounters counters = Counters;
        if (_outputError is not null)
        {
            Volatile.Write(ref counters._txErrors, counters._txErrors + frames.Length);
            return frames.Length;
        }

        long bytes = 0;
        long written = 0;
        int i = 0;
        try
        {
            long timestamp = _reader is null ? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000 : _timestamp;
            bool withMeta = meta.Length >= frames.Length;
            for (; i < frames.Length; i++)
            {
                FrameView frame = frames[i];
                int count = frame.Offload.IsNone
                    ? 0
                    : _offload!.Prepare(frame, withMeta ? (PacketMeta*)Unsafe.AsPointer(ref Unsafe.AsRef(in meta[i])) : null, ushort.MaxValue, out _);
                if (count == 0)
                {
                    _writer.Write(new ReadOnlySpan<byte>(frame.Data, frame.Length), timestamp);
                    bytes += frame.Length;
                    written++;
                    continue;
                }

                foreach (FrameView piece in _offload!.Frames(count))
                {
                    _writer.Write(new ReadOnlySpan<byte>(piece.Data, piece.Length), timestamp);
                    bytes += piece.Length;
                    written++;
                }
            }
        }
        catch (IOException error)
        {
            // Once per port: the output is gone (EPIPE from a FIFO nobody reads any more, ENOSPC…). The frame being
            // written and every later one are taken and counted as TX errors; forwarding on the other ports goes on.
            Fail(error);
            Volatile.Write(ref counters._txErrors, counters._txErrors + (frames.Length - i));
        }

        Volatile.Write(ref counters._txBytes, counters._txBytes + bytes);
        Volatile.Write(ref counters._txPackets, counters._txPackets + written);
        return frames.Length;
    }

    /// <summary>Flushes the output to the file (nothing once the output failed, see <see cref="OutputError"/>).</summary>
    public void Flush()
    {
        if (_writer is null || _outputError is not null)
        {
            return;
        }

        try
        {
            _writer.Flush();
        }
        catch (IOException error)
        {
            Fail(error);
        }
    }

    /// <inheritdoc />
    /// <remarks>Never throws for a failed output: the records still buffered are lost and counted as one TX error.</remarks>
    protected override void Dispose(bool disposing)
    {
        if (!disposing)
        {
            return;
        }

        _reader?.Dispose();
        try
        {
            _writer?.Dispose(); // Flushes what is buffered, then closes the descriptor even when the flush fails.
        }
        catch (IOException error)
        {
            Fail(error);
            Volatile.Write(ref Counters._txErrors, Counters._txErrors + 1);
        }

        _offload?.Dispose();
    }

    private void Fail(IOException error)
    {
        // .NET on Unix sets HResult to the errno for I/O errors it maps to IOException (EPIPE = 32).
        if (error.HResult is > 0 and < 4096)
        {
            Volatile.Write(ref Counters._txLastErrno, error.HResult);
        }

        Volatile.Write(ref _outputError, error.Message);
    }
}
