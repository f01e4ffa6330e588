using System.Net;
using System.Net.Sockets;

namespace FastPath.Control.Config;

/// <summary>Where the control socket listens: <c>unix:PATH</c> or <c>tcp:ADDRESS:PORT</c>.</summary>
/// <remarks>Immutable.</remarks>
public sealed record ControlEndpoint
{
    /// <summary>The default endpoint when neither the configuration nor <c>--control</c> names one.</summary>
    public const string Default = "unix:/run/fastpath/control.sock";

    private ControlEndpoint(string text, EndPoint endPoint)
    {
        Text = text;
        EndPoint = endPoint;
    }

    /// <summary>The endpoint as written.</summary>
    public string Text { get; }

    /// <summary>A <see cref="UnixDomainSocketEndPoint"/> or an <see cref="IPEndPoint"/>.</summary>
    public EndPoint EndPoint { get; }

    /// <summary>The path of a Unix socket, else null.</summary>
    public string? UnixPath => EndPoint is UnixDomainSocketEndPoint ? Text["unix:".Length..] : null;

    /// <summary>The address family to open sockets with.</summary>
    public AddressFamily Family => EndPoint.AddressFamily;

    /// <summary>The protocol to open sockets with (Unix sockets take none).</summary>
    public ProtocolType Protocol => EndPoint is UnixDomainSocketEndPoint ? ProtocolType.Unspecified : ProtocolType.Tcp;

    /// <summary>
    /// Parses <paramref name="text"/>; a TCP address other than loopback is refused unless
    /// <paramref name="allowRemote"/>, because the control socket has no authentication of its own.
    /// </summary>
    public static bool TryParse(string? text, bool allowRemote, out ControlEndpoint endpoint, out string error)
    {
        endpoint = null!;
        error = string.Empty;
        if (text is not null && text.StartsWith("unix:", StringComparison.Ordinal) && text.Length > "unix:".Length)
        {
            string path = text["unix:".Length..];
            if (System.Text.Encoding.UTF8.GetByteCount(path) > 107)
            {
                error = $"unix socket path longer than 107 bytes ('{path}')";
                return false;
            }

            endpoint = new ControlEndpoint(text, new UnixDomainSocketEndPoint(path));
            return true;
        }

        if (text is not null && text.StartsWith("tcp:", StringComparison.Ordinal))
        {
            if (IpAddressText.TryParseEndPoint(text.AsSpan("tcp:".Length), out IPEndPoint tcp))
            {
                if (!IPAddress.IsLoopback(tcp.Address) && !allowRemote)
                {
                    error = $"'{text}' is not a loopback address; the control socket has no authentication (set \"allow_remote_control\": true to accept it)";
                    return false;
                }

                endpoint = new ControlEndpoint(text, tcp);
                return true;
            }
        }

        error = $"expected unix:PATH or tcp:ADDRESS:PORT ('{text}')";
        return false;
    }
}
