namespace FastPath.Vtpm.Engine;

/// <summary>Where the engine's entropy comes from. The engine draws through exactly one instance, so a
/// recording source on the master and a replaying source on the slave make two engines bit-identical;
/// tests inject a seeded source for reproducible runs.</summary>
/// <remarks>Called only from the thread executing a command (the engine is single-threaded).</remarks>
public abstract class RandomSource
{
    /// <summary>Fills <paramref name="destination"/> completely.</summary>
    public abstract void Fill(Span<byte> destination);
}
