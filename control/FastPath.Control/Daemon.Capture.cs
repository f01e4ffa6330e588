using System.Diagnostics;
using System.Text.Json;
using FastPath.Control.Capture;
using FastPath.Control.ControlSocket;
using FastPath.Dataplane.Capture;
using FastPath.Dataplane.Pipeline;

namespace FastPath.Control;

/// <summary>
/// Live capture verbs: <c>capture.start</c> attaches a <see cref="CaptureSession"/> to the workers, <c>capture.read</c>
/// drains its rings as pcapng bytes (base64; the first read starts with the section and interface blocks),
/// <c>capture.stop</c> detaches it. One capture at a time; one that nobody reads for 10 s is stopped, so a client that
/// vanished does not leave the workers copying.
/// </summary>
public sealed partial class Daemon
{
    private const int MaxFilterChars = 1024;
    private const int DefaultSnapLength = 2048;
    private const int MaxReadFrames = 65536;
    private static readonly TimeSpan s_captureIdle = TimeSpan.FromSeconds(10);

    private readonly Lock _captureLock = new();
    private CaptureSession? _capture;
    private int _captureId;
    private bool _captureHeaderSent;
    private long _captureFrames;
    private long _captureLastRead;
    private Timer? _captureReaper;

    private ControlReply StartCapture(JsonElement args)
    {
        RunningPipeline? pipeline = _pipeline;
        if (pipeline is null)
        {
            return ControlReply.Error(ControlProtocol.Refused, "the daemon is stopping");
        }

        if (args.ValueKind != JsonValueKind.Object || !args.TryGetProperty("port", out JsonElement portElement) || portElement.ValueKind != JsonValueKind.String)
        {
            return ControlReply.Error(ControlProtocol.BadRequest, "capture.start needs args.port");
        }

        string port = portElement.GetString()!;
        if (!pipeline.Ports.Contains(port))
        {
            return ControlReply.Error(ControlProtocol.NotFound, $"no port '{port}' (ports: {string.Join(", ", pipeline.Ports)})");
        }

        CaptureDirection direction;
        string? directionText = args.TryGetProperty("direction", out JsonElement d) && d.ValueKind == JsonValueKind.String ? d.GetString() : "both";
        switch (directionText)
        {
            case "rx": direction = CaptureDirection.Rx; break;
            case "tx": direction = CaptureDirection.Tx; break;
            case "both": direction = CaptureDirection.Both; break;
            default: return ControlReply.Error(ControlProtocol.BadRequest, $"args.direction: '{directionText}' (expected rx, tx or both)");
        }

        bool drops = args.TryGetProperty("drops", out JsonElement dropsElement) && dropsElement.ValueKind == JsonValueKind.True;
        int snap = DefaultSnapLength;
        if (args.TryGetProperty("snaplen", out JsonElement snapElement) &&
            (!snapElement.TryGetInt32(out snap) || snap < 64 || snap > CaptureSession.MaxSnapLength))
        {
            return ControlReply.Error(ControlProtocol.BadRequest, $"args.snaplen: expected 64 to {CaptureSession.MaxSnapLength}");
        }

        CaptureFilter filter;
        string? filterText = args.TryGetProperty("filter", out JsonElement f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
        if (filterText is { Length: > MaxFilterChars })
        {
            return ControlReply.Error(ControlProtocol.BadRequest, $"filter: longer than {MaxFilterChars} characters");
        }

        try
        {
            filter = CaptureFilter.Parse(filterText);
        }
        catch (FormatException error)
        {
            return ControlReply.Error(ControlProtocol.BadRequest, error.Message);
        }

        lock (_captureLock)
        {
            if (_capture is not null)
            {
                return ControlReply.Error(ControlProtocol.Busy, $"a capture is already running (id {_captureId})");
            }

            _capture = new CaptureSession(port, direction, drops, snap, filter, pipeline.WorkerCount);
            _captureId++;
            _captureHeaderSent = false;
            _captureFrames = 0;
            _captureLastRead = Stopwatch.GetTimestamp();
            _captureReaper = new Timer(_ => ReapIdleCapture(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            pipeline.AttachCapture(_capture);
            int id = _captureId;
            return ControlReply.Ok(json => json.WriteNumber("id", id));
        }
    }

    private ControlReply ReadCapture(JsonElement args)
    {
        int max = MaxReadFrames;
        if (args.ValueKind == JsonValueKind.Object && args.TryGetProperty("max", out JsonElement maxElement) &&
            (!maxElement.TryGetInt32(out max) || max < 0 || max > MaxReadFrames))
        {
            return ControlReply.Error(ControlProtocol.BadRequest, $"args.max: expected 0 to {MaxReadFrames}");
        }

        lock (_captureLock)
        {
            if (CurrentCapture(args) is not CaptureSession session)
            {
                return NoCapture(args);
            }

            _captureLastRead = Stopwatch.GetTimestamp();
            var bytes = new MemoryStream();
            if (!_captureHeaderSent)
            {
                PcapNgEncoder.WriteHeader(bytes, session);
                _captureHeaderSent = true;
            }

            int frames = session.Drain(frame => PcapNgEncoder.WriteFrame(bytes, session, frame), max);
            _captureFrames += frames;
            long drops = session.CaptureDrops;
            byte[] data = bytes.ToArray();
            return ControlReply.Ok(json =>
            {
                json.WriteNumber("frames", frames);
                json.WriteNumber("capture_drops", drops);
                json.WriteBase64String("data", data);
            });
        }
    }

    private ControlReply StopCapture(JsonElement args)
    {
        lock (_captureLock)
        {
            if (CurrentCapture(args) is null)
            {
                return NoCapture(args);
            }

            (long frames, long drops) = DetachCaptureUnsynchronized();
            return ControlReply.Ok(json =>
            {
                json.WriteNumber("frames", frames);
                json.WriteNumber("capture_drops", drops);
            });
        }
    }

    private CaptureSession? CurrentCapture(JsonElement args) =>
        args.ValueKind == JsonValueKind.Object && args.TryGetProperty("id", out JsonElement id) && id.TryGetInt32(out int value) && value == _captureId ? _capture : null;

    private ControlReply NoCapture(JsonElement args) => ControlReply.Error(ControlProtocol.NotFound,
        _capture is null ? "no capture is running (it may have been stopped after 10 s without a read)" : $"args.id: the running capture is {_captureId}");

    /// <summary>Detaches the capture; the caller holds <see cref="_captureLock"/>. Returns frames read and capture drops.</summary>
    private (long Frames, long Drops) DetachCaptureUnsynchronized()
    {
        _pipeline?.AttachCapture(null);
        _captureReaper?.Dispose();
        _captureReaper = null;
        long drops = _capture?.CaptureDrops ?? 0;
        _capture = null;
        return (_captureFrames, drops);
    }

    private void ReapIdleCapture()
    {
        lock (_captureLock)
        {
            if (_capture is not null && Stopwatch.GetElapsedTime(_captureLastRead) > s_captureIdle)
            {
                _log.WriteLine($"fastpath: capture {_captureId} on {_capture.Port}: not read for {s_captureIdle.TotalSeconds:0} s; stopped");
                DetachCaptureUnsynchronized();
            }
        }
    }
}
