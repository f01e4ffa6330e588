using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FastPath.Vtpm.Protocol;

/// <summary>
/// Where a vTPM's two swtpm channels listen. By default a Unix socket PATH (commands) and PATH.ctrl (control),
/// both 0600: only the owner (and root) can reach them, which is what the tpm2-tss swtpm TCTI's
/// <c>swtpm:path=PATH</c> connects to. TCP is the opt-in: loopback only, commands on P and control on P+1, and
/// any local user can connect there, so the control commands that stop the TPM or read/replace its state
/// (CMD_SHUTDOWN, GET_STATEBLOB, SET_STATEBLOB) are refused on it unless <see cref="StateCommandsAllowed"/>.
/// </summary>
/// <remarks>Immutable.</remarks>
public sealed record VtpmEndpoint
{
    /// <summary>What the control channel's path adds to the command socket's (the swtpm TCTI's convention).</summary>
    public const string ControlSuffix = ".ctrl";

    private VtpmEndpoint(string? socketPath, int port, bool stateCommandsAllowed)
    {
        SocketPath = socketPath;
        Port = port;
        StateCommandsAllowed = stateCommandsAllowed;
    }

    /// <summary>The command channel's Unix socket (the control channel is this + <see cref="ControlSuffix"/>), or null for TCP.</summary>
    public string? SocketPath { get; }

    /// <summary>The TCP command port on 127.0.0.1 (control on port + 1), or 0 for a Unix socket.</summary>
    public int Port { get; }

    /// <summary>Whether the control channel serves CMD_SHUTDOWN and the state blobs (always on a 0600 Unix socket).</summary>
    public bool StateCommandsAllowed { get; }

    /// <summary>Both channels on Unix sockets at <paramref name="path"/> and <paramref name="path"/>.ctrl.</summary>
    public static VtpmEndpoint Unix(string path) => new(Path.GetFullPath(path), 0, stateCommandsAllowed: true);

    /// <summary>Both channels on 127.0.0.1: commands on <paramref name="port"/>, control on port + 1.</summary>
    public static VtpmEndpoint Tcp(int port, bool allowStateCommands = false) =>
        port is > 0 and < 65535 ? new(null, port, allowStateCommands) : throw new ArgumentOutOfRangeException(nameof(port), port, "the command port must be 1..65534 (the control channel uses port + 1)");

    /// <summary>The control channel's Unix socket path, or null for TCP.</summary>
    public string? ControlPath => SocketPath is null ? null : SocketPath + ControlSuffix;

    /// <summary>The command channel's end point.</summary>
    public EndPoint Command => SocketPath is null ? new IPEndPoint(IPAddress.Loopback, Port) : new UnixDomainSocketEndPoint(SocketPath);

    /// <summary>The control channel's end point.</summary>
    public EndPoint Control => SocketPath is null ? new IPEndPoint(IPAddress.Loopback, Port + 1) : new UnixDomainSocketEndPoint(ControlPath!);

    /// <summary>What <c>TPM2TOOLS_TCTI</c> should say to reach it.</summary>
    public string Tcti => SocketPath is null
        ? string.Create(CultureInfo.InvariantCulture, $"swtpm:host=127.0.0.1,port={Port}")
        : $"swtpm:path={SocketPath}";

    /// <summary>Null when both channels may listen where this says (Unix paths: see <see cref="UnixSocketPath.ListenProblem"/>).</summary>
    public string? ListenProblem() => SocketPath is null ? null : UnixSocketPath.ListenProblem(SocketPath) ?? UnixSocketPath.ListenProblem(ControlPath!);

    /// <summary>For logs: <c>unix:/run/fastpath/vtpm.sock (control …​.ctrl)</c> or <c>127.0.0.1:2321 (control 2322)</c>.</summary>
    public override string ToString() => SocketPath is null
        ? string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port} (control {Port + 1}{(StateCommandsAllowed ? ", state commands allowed" : string.Empty)})")
        : $"unix:{SocketPath} (control {ControlPath})";

    /// <summary>Removes the socket files this endpoint's listeners created.</summary>
    internal void RemoveSocketFiles()
    {
        if (SocketPath is not null)
        {
            UnixSocketPath.RemoveSocketFile(SocketPath);
            UnixSocketPath.RemoveSocketFile(ControlPath!);
        }
    }
}
