namespace FastPath.Dataplane.Ports;

/// <summary>What an in-memory <see cref="GeneratorPort"/> produces: 802.1Q-tagged IPv4/UDP frames from the user side.</summary>
/// <param name="FrameSize">Frame length on the wire including the 4-byte FCS, as packet generators count it (64 = minimum).</param>
/// <param name="Flows">Distinct 5-tuples, cycled in order.</param>
/// <param name="Mappings">Mapped user addresses the flows draw their source from (flow f uses mapping f mod Mappings).</param>
/// <param name="Tenant">VLAN ID of every frame.</param>
public sealed record GeneratorSpec(int FrameSize, int Flows, int Mappings, ushort Tenant = GeneratorSpec.DefaultTenant)
{
    /// <summary>The tenant of generated traffic unless told otherwise.</summary>
    public const ushort DefaultTenant = 100;

    /// <summary>User address of mapping <paramref name="index"/>: 10.0.0.0 + index (in-memory only, never on a wire).</summary>
    public static uint UserAddress(int index) => 0x0A00_0000u + (uint)index;

    /// <summary>Secure address of mapping <paramref name="index"/>: 11.0.0.0 + index; a /8 because 16M mappings do not fit the benchmark /15.</summary>
    public static uint SecureAddress(int index) => 0x0B00_0000u + (uint)index;

    /// <summary>Destination of every flow: an unmapped address (198.18.0.1), so each packet costs one hit and one miss.</summary>
    public const uint Destination = 0xC612_0001u;

    /// <summary>Largest number of mappings the address plan holds (a /8).</summary>
    public const int MaxMappings = 1 << 24;
}
