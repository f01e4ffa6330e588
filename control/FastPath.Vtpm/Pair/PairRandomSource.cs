using FastPath.Vtpm.Engine;

namespace FastPath.Vtpm.Pair;

/// <summary>An instance's entropy: for a command run as master it draws from the system and records; for a
/// command run as slave it hands out exactly the bytes the master recorded and fails when they run dry.</summary>
/// <remarks>Not thread-safe: the instance server calls <see cref="Begin"/>, the command and <see cref="End"/>
/// under one lock.</remarks>
public sealed class PairRandomSource : RandomSource
{
    private readonly RecordingRandomSource _recording = new(SystemRandomSource.Instance);
    private readonly ReplayRandomSource _replay = new();
    private bool _replaying;

    /// <summary>Starts a command: replay <paramref name="replay"/> when not null, else draw and record.</summary>
    public void Begin(byte[]? replay)
    {
        _recording.TakeRecorded();
        _replaying = replay is not null;
        if (replay is not null)
        {
            _replay.Supply(replay);
        }
    }

    /// <summary>Ends a command: the bytes it recorded (empty when replaying) and the replay bytes it left
    /// unused (a slave that consumed less than the master diverged).</summary>
    public (byte[] Recorded, int Unused) End()
    {
        int unused = _replay.Pending;
        if (unused > 0)
        {
            byte[] drop = new byte[unused];
            _replay.Fill(drop);
        }

        _replaying = false;
        return (_recording.TakeRecorded(), unused);
    }

    public override void Fill(Span<byte> destination)
    {
        if (_replaying)
        {
            _replay.Fill(destination);
        }
        else
        {
            _recording.Fill(destination);
        }
    }
}
