using FastPath.Vtpm.Engine;

namespace FastPath.Vtpm.Pair;

/// <summary>An instance's entropy for one command: the supplied bytes (the master's random number, the same on
/// both instances) when the controller gives them, otherwise the system source. It counts what it handed out,
/// so the controller can tell a slave that consumed differently from its master.</summary>
/// <remarks>Not thread-safe: the instance server calls <see cref="Begin"/>, the command and <see cref="End"/>
/// under one lock.</remarks>
public sealed class PairRandomSource : RandomSource
{
    private readonly byte[] _supplied = new byte[InstanceWire.EntropySize];
    private int _suppliedLength;
    private int _consumed;
    private int _drawn;

    /// <summary>Starts a command: hand out <paramref name="supplied"/> when it is not empty, else draw from the system.</summary>
    public void Begin(ReadOnlySpan<byte> supplied)
    {
        if (supplied.Length > _supplied.Length)
        {
            throw new ArgumentException($"at most {_supplied.Length} entropy bytes per command", nameof(supplied));
        }

        supplied.CopyTo(_supplied);
        _suppliedLength = supplied.Length;
        _consumed = 0;
        _drawn = 0;
    }

    /// <summary>Ends a command: bytes drawn from the system, and supplied bytes left unused.</summary>
    public (int Drawn, int Unused) End()
    {
        (int, int) result = (_drawn, _suppliedLength - _consumed);
        Array.Clear(_supplied);
        _suppliedLength = 0;
        return result;
    }

    public override void Fill(Span<byte> destination)
    {
        if (_suppliedLength == 0)
        {
            SystemRandomSource.Instance.Fill(destination);
            _drawn += destination.Length;
            return;
        }

        if (_suppliedLength - _consumed < destination.Length)
        {
            // The engine answers TPM_RC_FAILURE on both instances alike: the supply is the same on both.
            throw new InvalidOperationException($"supplied entropy ran dry: {destination.Length} bytes wanted, {_suppliedLength - _consumed} left");
        }

        _supplied.AsSpan(_consumed, destination.Length).CopyTo(destination);
        _consumed += destination.Length;
    }
}
