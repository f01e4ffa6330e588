using System.Globalization;
using System.Net.Sockets;
using FastPath.Control.Maps;
using FastPath.Dataplane.Pipeline;

namespace FastPath.Control.Config;

/// <summary>
/// <c>fastpath run --check</c>: what <see cref="ConfigLoader.Load"/> checks (every field, interfaces, the maps
/// file, guest socket paths, cores) plus what the daemon would only find out when it binds its control socket —
/// without opening a port, a listening socket or a worker.
/// </summary>
/// <remarks>Stateless; safe from any thread.</remarks>
public static class ConfigCheck
{
    /// <summary>Checks what <paramref name="config"/> needs beyond its own validation; returns the one-line summary.</summary>
    /// <exception cref="InputFileException">A problem the daemon would meet at start, named like the loader's errors.</exception>
    public static string Check(DaemonConfig config)
    {
        int mappings = config.MapsFile is null ? 0 : MapsFile.Load(config.MapsFile).Length;
        if (config.Control.UnixPath is string socket)
        {
            CheckControlSocket(config.Source, Path.GetFullPath(socket));
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"{config.Source}: ok: {config.Cores.Count} worker(s), {config.Ports.Count} port(s){(config.Ports.Count == 0 ? " (no data path)" : string.Empty)}, {config.Pairs.Count} pair(s), {mappings} mapping(s), control {config.Control.Text}");
    }

    private static void CheckControlSocket(string source, string path)
    {
        // The daemon creates the missing folders and replaces a socket a dead daemon left; every other case fails it.
        for (string? folder = Path.GetDirectoryName(path); folder is not null; folder = Path.GetDirectoryName(folder))
        {
            if (File.Exists(folder))
            {
                throw new InputFileException($"{source}: control: '{folder}' is a file, not a folder");
            }

            if (Directory.Exists(folder))
            {
                break;
            }
        }

        if (GuestPlan.CheckSocketPath(path, onHost: true) is string problem)
        {
            throw new InputFileException($"{source}: control: {problem}");
        }

        if (File.Exists(path) && Answers(path))
        {
            throw new InputFileException($"{source}: control: another daemon is already listening on unix:{path}");
        }
    }

    private static bool Answers(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
