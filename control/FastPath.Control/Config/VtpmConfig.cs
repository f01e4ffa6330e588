using FastPath.Vtpm.Pair;

namespace FastPath.Control.Config;

/// <summary>The validated <c>vtpm</c> section: a vTPM served next to the data plane.</summary>
/// <param name="Port">Command channel TCP port on 127.0.0.1 (the control channel is port + 1; the pair's status P+2).</param>
/// <param name="StateDirectory">Where the vTPM keeps its state (the pair: DIR/a, DIR/b, DIR/pair).</param>
/// <param name="Pair">The high-availability pair (<c>"mode": "pair"</c>) rather than one instance.</param>
/// <param name="Durability">The pair's acknowledgement rule.</param>
/// <param name="TimeoutMilliseconds">The pair's hung-instance timeout.</param>
public sealed record VtpmConfig(int Port, string StateDirectory, bool Pair = false, PairDurability Durability = PairDurability.Pair, int TimeoutMilliseconds = 2000);
