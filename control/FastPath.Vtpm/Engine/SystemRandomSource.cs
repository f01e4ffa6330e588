using System.Security.Cryptography;

namespace FastPath.Vtpm.Engine;

/// <summary>Entropy from the operating system (getrandom via <see cref="RandomNumberGenerator"/>).</summary>
/// <remarks>Thread-safe: <see cref="RandomNumberGenerator.Fill"/> is.</remarks>
public sealed class SystemRandomSource : RandomSource
{
    public static readonly SystemRandomSource Instance = new();

    public override void Fill(Span<byte> destination) => RandomNumberGenerator.Fill(destination);
}
