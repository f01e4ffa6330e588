using FastPath.Vtpm.Engine;

namespace FastPath.Vtpm.Tests.Infrastructure;

/// <summary>Seeded entropy that can be forbidden: a draw while <see cref="Forbidden"/> throws, which the engine
/// turns into TPM_RC_FAILURE, so a test sees any command that consumed entropy.</summary>
/// <remarks>Not thread-safe; used by one engine.</remarks>
internal sealed class GuardedRandomSource(int seed) : RandomSource
{
    private readonly SeededRandomSource _inner = new(seed);

    public bool Forbidden { get; set; }

    public override void Fill(Span<byte> destination)
    {
        if (Forbidden)
        {
            throw new InvalidOperationException("entropy drawn by a command classified READ");
        }

        _inner.Fill(destination);
    }
}
