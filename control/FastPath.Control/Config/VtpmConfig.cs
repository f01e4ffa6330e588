namespace FastPath.Control.Config;

/// <summary>The validated <c>vtpm</c> section: a vTPM served next to the data plane.</summary>
/// <param name="Port">Command channel TCP port on 127.0.0.1 (the control channel is port + 1).</param>
/// <param name="StateDirectory">Where the vTPM keeps its state.</param>
/// <remarks>
/// Only <c>"mode": "single"</c> runs today; <c>"pair"</c> (the high-availability pair) is issue #9 and is refused
/// when the configuration is read, not silently downgraded.
/// </remarks>
public sealed record VtpmConfig(int Port, string StateDirectory);
