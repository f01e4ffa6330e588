using FastPath.Control.Config;
using FastPath.Control.ControlSocket;

namespace FastPath.Cli.Commands;

/// <summary>Opens the client side of the control socket for <c>map</c> and <c>stats</c>.</summary>
internal static class ControlConnection
{
    /// <summary>Environment variable naming the endpoint when <c>--control</c> is not given.</summary>
    public const string EnvironmentVariable = "FASTPATH_CONTROL";

    /// <summary>Connects to <paramref name="option"/>, else <c>$FASTPATH_CONTROL</c>, else the default Unix socket.</summary>
    public static ControlClient Open(string? option)
    {
        string text = option ?? Environment.GetEnvironmentVariable(EnvironmentVariable) ?? ControlEndpoint.Default;

        // A client may name any address; only the daemon restricts where it listens.
        if (!ControlEndpoint.TryParse(text, allowRemote: true, out ControlEndpoint endpoint, out string error))
        {
            throw new UsageException($"--control: {error}");
        }

        return ControlClient.Connect(endpoint);
    }
}
