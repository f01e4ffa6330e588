using System.Net;
using System.Net.Sockets;

namespace FastPath.Vtpm.Tests.Infrastructure;

/// <summary>Finds a loopback port P such that P and P+1 (command and control channel) are both free now.</summary>
/// <remarks>Thread-safe; a port could still be taken between the probe and its use, which the caller's
/// start-up wait reports as a timeout naming the port.</remarks>
internal static class FreePorts
{
    public static int Pair()
    {
        for (int attempt = 0; attempt < 50; attempt++)
        {
            using var first = new TcpListener(IPAddress.Loopback, 0);
            first.Start();
            int port = ((IPEndPoint)first.LocalEndpoint).Port;
            if (port >= 65534)
            {
                continue;
            }

            try
            {
                using var second = new TcpListener(IPAddress.Loopback, port + 1);
                second.Start();
                second.Stop();
                first.Stop();
                return port;
            }
            catch (SocketException)
            {
                // P+1 is taken; try another P.
            }
        }

        throw new InvalidOperationException("no free loopback port pair found in 50 attempts");
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
