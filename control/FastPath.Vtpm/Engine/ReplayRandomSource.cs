namespace FastPath.Vtpm.Engine;

/// <summary>Hands out previously recorded entropy in order. Running dry means the replica diverged from the
/// recording; that is reported as <see cref="InvalidOperationException"/> (the engine answers TPM_RC_FAILURE).</summary>
/// <remarks>Not thread-safe: used by the single thread that executes commands.</remarks>
public sealed class ReplayRandomSource : RandomSource
{
    private readonly Queue<byte> _pending = new();

    public int Pending => _pending.Count;

    public void Supply(ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes)
        {
            _pending.Enqueue(b);
        }
    }

    public override void Fill(Span<byte> destination)
    {
        if (_pending.Count < destination.Length)
        {
            throw new InvalidOperationException($"replay ran dry: {destination.Length} random bytes wanted, {_pending.Count} recorded");
        }

        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = _pending.Dequeue();
        }
    }
}
