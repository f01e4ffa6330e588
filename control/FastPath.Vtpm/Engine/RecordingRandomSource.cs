namespace FastPath.Vtpm.Engine;

/// <summary>Passes entropy through from an inner source and keeps a copy of every byte handed out, so the
/// bytes one command consumed can be shipped to a replica and replayed with <see cref="ReplayRandomSource"/>.</summary>
/// <remarks>Not thread-safe: used by the single thread that executes commands.</remarks>
public sealed class RecordingRandomSource(RandomSource inner) : RandomSource
{
    private readonly List<byte> _recorded = [];

    public override void Fill(Span<byte> destination)
    {
        inner.Fill(destination);
        foreach (byte b in destination)
        {
            _recorded.Add(b);
        }
    }

    /// <summary>The bytes handed out since the last call, then forgets them.</summary>
    public byte[] TakeRecorded()
    {
        byte[] bytes = [.. _recorded];
        _recorded.Clear();
        return bytes;
    }
}
