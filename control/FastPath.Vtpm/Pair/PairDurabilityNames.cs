namespace FastPath.Vtpm.Pair;

/// <summary>The names users write for <see cref="PairDurability"/> (<c>--durability</c>, the config's
/// <c>vtpm.durability</c>, the start-up line): one spelling, parsed and printed here only.</summary>
/// <remarks>Stateless.</remarks>
public static class PairDurabilityNames
{
    /// <summary>Every accepted name.</summary>
    public static readonly string[] All = ["pair", "sync"];

    /// <summary>The name of <paramref name="durability"/>.</summary>
    public static string Name(PairDurability durability) => durability == PairDurability.Sync ? "sync" : "pair";

    /// <summary>The durability named <paramref name="text"/>, or null for any other text.</summary>
    public static PairDurability? Parse(string text) => text switch
    {
        "pair" => PairDurability.Pair,
        "sync" => PairDurability.Sync,
        _ => null,
    };
}
