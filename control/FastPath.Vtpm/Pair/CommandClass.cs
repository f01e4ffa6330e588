namespace FastPath.Vtpm.Pair;

/// <summary>How the I/O controller routes a command (seed 001 claim 1).</summary>
public enum CommandClass
{
    /// <summary>Changes nothing at all: runs on the flagged master only.</summary>
    Read,

    /// <summary>Changes state deterministically: runs on both instances in one global order.</summary>
    Write,

    /// <summary>Consumes entropy: runs on both with the random number the master generated (the 32 bytes its
    /// DRBG reseeds from), so the slave replays exactly what the master consumes.</summary>
    Random,
}
