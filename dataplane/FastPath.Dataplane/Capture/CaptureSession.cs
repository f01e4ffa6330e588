namespace FastPath.Dataplane.Capture;

/// <summary>
/// A live capture of one port (<c>fastpath capture</c>): while it is attached to a running pipeline
/// (<see cref="Pipeline.RunningPipeline.AttachCapture"/>) each worker copies the frames of that port that pass the
/// filter into its own bounded ring; the control plane drains the rings. Frames that do not fit are counted as
/// capture drops, and forwarding never waits for the capture.
/// </summary>
/// <remarks>Concurrency: workers write their own ring; one consumer thread calls <see cref="Drain"/>.</remarks>
public sealed class CaptureSession
{
    /// <summary>Largest snap length: a jumbo frame.</summary>
    public const int MaxSnapLength = 9216;

    /// <summary>Slots per worker ring unless told otherwise.</summary>
    public const int DefaultSlots = 4096;

    private readonly CaptureRing[] _rings;
    private readonly byte[][] _scratch;

    /// <summary>Makes a session; nothing is captured until it is attached.</summary>
    /// <param name="port">The port to capture.</param>
    /// <param name="direction">Received frames, transmitted frames, or both.</param>
    /// <param name="dropsOnly">Only frames the data plane dropped (received on the port), each with its reason.</param>
    /// <param name="snapLength">Bytes kept of each frame, 64–<see cref="MaxSnapLength"/>.</param>
    /// <param name="filter">Which frames to take.</param>
    /// <param name="workers">The pipeline's worker count.</param>
    /// <param name="slots">Frames each worker's ring holds, 16–1048576.</param>
    public CaptureSession(string port, CaptureDirection direction, bool dropsOnly, int snapLength, CaptureFilter filter, int workers, int slots = DefaultSlots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(snapLength, 64);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(snapLength, MaxSnapLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 16);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(slots, 1 << 20);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);
        if (direction is not (CaptureDirection.Rx or CaptureDirection.Tx or CaptureDirection.Both))
        {
            throw new ArgumentOutOfRangeException(nameof(direction));
        }

        Port = port;
        Direction = direction;
        DropsOnly = dropsOnly;
        SnapLength = snapLength;
        Filter = filter;
        _rings = new CaptureRing[workers];
        _scratch = new byte[workers][];
        for (int w = 0; w < workers; w++)
        {
            _rings[w] = new CaptureRing(slots, snapLength);
            _scratch[w] = GC.AllocateUninitializedArray<byte>(Pipeline.TranslationStage.MaxBatch * snapLength, pinned: true);
        }
    }

    /// <summary>Receives one frame from <see cref="Drain"/>.</summary>
    public delegate void FrameHandler(CapturedFrame frame);

    /// <summary>The captured port.</summary>
    public string Port { get; }

    /// <summary>Which of its frames.</summary>
    public CaptureDirection Direction { get; }

    /// <summary>Only dropped frames.</summary>
    public bool DropsOnly { get; }

    /// <summary>Bytes kept per frame.</summary>
    public int SnapLength { get; }

    /// <summary>The filter.</summary>
    public CaptureFilter Filter { get; }

    /// <summary>Frames that matched but found their worker's ring full.</summary>
    public long CaptureDrops
    {
        get
        {
            long drops = 0;
            foreach (CaptureRing ring in _rings)
            {
                drops += ring.Drops;
            }

            return drops;
        }
    }

    /// <summary>Hands up to <paramref name="max"/> captured frames to <paramref name="handler"/> (worker by worker); returns how many.</summary>
    public int Drain(FrameHandler handler, int max)
    {
        ArgumentNullException.ThrowIfNull(handler);
        int taken = 0;
        foreach (CaptureRing ring in _rings)
        {
            taken += ring.Drain(handler, max - taken);
        }

        return taken;
    }

    internal CaptureRing Ring(int worker) => _rings[worker];

    internal byte[] Scratch(int worker) => _scratch[worker];
}
