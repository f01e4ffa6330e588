using System.Net;
using System.Net.Sockets;

namespace FastPath.Harness;

/// <summary>Finds a loopback port P such that P and P+1 (command and control channel) are both free now.</summary>
/// <remarks>Thread-safe; a port could still be taken between the probe and its use, which the caller's
/// start-up wait reports as a timeout naming the port.</remarks>
public static class FreePorts
{
    /// <remarks>Ports come from 20000-32767, below Linux's ephemeral range (32768-60999): the tests open
    /// thousands of client connections, and a port next to an ephemeral one is often busy in TIME_WAIT.</remarks>
    public static int Pair()
    {
        for (int attempt = 0; attempt < 200; attempt++)
        {
            int port = Random.Shared.Next(20000, 32766);
            if (IsFree(port) && IsFree(port + 1))
            {
                return port;
            }
        }

        throw new InvalidOperationException("no free loopback port pair found in 200 attempts");
    }

    /// <summary>P, P+1 and P+2 free (the pair's command, control and status ports).</summary>
    public static int Triple()
    {
        for (int attempt = 0; attempt < 200; attempt++)
        {
            int port = Random.Shared.Next(20000, 32765);
            if (IsFree(port) && IsFree(port + 1) && IsFree(port + 2))
            {
                return port;
            }
        }

        throw new InvalidOperationException("no free loopback port triple found in 200 attempts");
    }

    /// <summary>One loopback port free now, as the kernel picks it (a listener on port 0): for a single listener such
    /// as a metrics endpoint or an etcd member, where no neighbouring port has to be free too.</summary>
    public static int One()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Waits until something accepts on 127.0.0.1:<paramref name="port"/>.</summary>
    public static void WaitForListener(int port, TimeSpan timeout, Func<string> diagnostics)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new TimeoutException($"nothing listens on 127.0.0.1:{port} after {timeout}: {diagnostics()}");
    }
}
