using FastPath.Vtpm.Pair;
using FastPath.Vtpm.Protocol;

namespace FastPath.Control.Config;

/// <summary>The validated <c>vtpm</c> section: a vTPM served next to the data plane.</summary>
/// <param name="Port">Command channel TCP port on 127.0.0.1 (control on port + 1), or null for the Unix sockets.</param>
/// <param name="StateDirectory">Where the vTPM keeps its state (the pair: DIR/a, DIR/b, DIR/pair, DIR/status.sock).</param>
/// <param name="Pair">The high-availability pair (<c>"mode": "pair"</c>) rather than one instance.</param>
/// <param name="Durability">The pair's acknowledgement rule.</param>
/// <param name="TimeoutMilliseconds">The pair's hung-instance timeout.</param>
/// <param name="Socket">The command channel's Unix socket when <paramref name="Port"/> is null (control at SOCKET.ctrl);
/// null means DIR/vtpm.sock.</param>
/// <param name="AllowTcpStateCommands">Serve CMD_SHUTDOWN and GET/SET_STATEBLOB on the TCP control port.</param>
public sealed record VtpmConfig(int? Port, string StateDirectory, bool Pair = false, PairDurability Durability = PairDurability.Pair, int TimeoutMilliseconds = 2000, string? Socket = null, bool AllowTcpStateCommands = false)
{
    /// <summary>The default command socket's file name in the state directory.</summary>
    public const string DefaultSocketName = "vtpm.sock";

    /// <summary>Where the swtpm channels listen.</summary>
    public VtpmEndpoint Endpoint => Port is int port
        ? VtpmEndpoint.Tcp(port, AllowTcpStateCommands)
        : VtpmEndpoint.Unix(Socket ?? Path.Combine(StateDirectory, DefaultSocketName));

    /// <summary>The pair's status socket (0600): DIR/status.sock.</summary>
    public string StatusSocket => Path.Combine(StateDirectory, PairController.StatusSocketName);
}
