using FastPath.Vtpm.Engine;

namespace FastPath.Vtpm.Tests.Infrastructure;

/// <summary>Reproducible entropy for tests that compare two engines (not for anything secret).</summary>
/// <remarks>Not thread-safe.</remarks>
internal sealed class SeededRandomSource(int seed) : RandomSource
{
    private readonly Random _random = new(seed);

    public long Consumed { get; private set; }

    public override void Fill(Span<byte> destination)
    {
        _random.NextBytes(destination);
        Consumed += destination.Length;
    }
}
