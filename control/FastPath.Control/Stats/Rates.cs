namespace FastPath.Control.Stats;

/// <summary>Per-second rates: packets and bits, received and sent.</summary>
/// <param name="RxPps">Packets received per second.</param>
/// <param name="RxBps">Bits received per second.</param>
/// <param name="TxPps">Packets sent per second.</param>
/// <param name="TxBps">Bits sent per second.</param>
public readonly record struct Rates(double RxPps, double RxBps, double TxPps, double TxBps)
{
    /// <summary>The rates between two totals <paramref name="seconds"/> apart.</summary>
    public static Rates Between(long rxPackets0, long rxBytes0, long txPackets0, long txBytes0, long rxPackets1, long rxBytes1, long txPackets1, long txBytes1, double seconds) =>
        seconds <= 0
            ? default
            : new Rates((rxPackets1 - rxPackets0) / seconds, (rxBytes1 - rxBytes0) * 8 / seconds, (txPackets1 - txPackets0) / seconds, (txBytes1 - txBytes0) * 8 / seconds);
}
