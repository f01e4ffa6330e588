namespace FastPath.Dataplane;

/// <summary>The printable names of <see cref="DropReason"/> values, shared by CLI, JSON and metrics.</summary>
public static class DropReasons
{
    /// <summary>Number of <see cref="DropReason"/> values, <see cref="DropReason.None"/> included: the length of a counter array.</summary>
    public const int Count = (int)DropReason.RxRingFull + 1;

    private static readonly string[] s_names =
    [
        "ok", "truncated", "not-ip", "bad-version", "bad-ihl", "bad-length", "bad-checksum", "ttl-exceeded",
        "no-mapping", "ext-chain-too-long", "unsupported", "tx-full", "bad-descriptor", "unknown-flow", "too-big",
        "rx-ring-full",
    ];

    /// <summary>Every reason, <see cref="DropReason.None"/> first.</summary>
    public static ReadOnlySpan<DropReason> All => Enum.GetValues<DropReason>();

    /// <summary>The kebab-case name (<c>no-mapping</c>); <c>ok</c> for <see cref="DropReason.None"/>.</summary>
    public static string Name(DropReason reason) => s_names[(int)reason];

    /// <summary>Parses a name printed by <see cref="Name"/>.</summary>
    public static bool TryParse(string name, out DropReason reason)
    {
        int index = Array.IndexOf(s_names, name);
        reason = (DropReason)Math.Max(index, 0);
        return index >= 0;
    }
}
