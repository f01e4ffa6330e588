using System.Net.Sockets;
using System.Text;

namespace FastPath.Vtpm.Pair;

/// <summary>The pair's status socket: a 0600 Unix socket (only its owner may ask for status or force a
/// failover), one text line per request, one JSON line per answer. <c>status</c>, <c>failover</c>, <c>digests</c>;
/// <c>corrupt NAME</c> only with FASTPATH_VTPM_TEST_HOOKS=1.</summary>
/// <remarks>Thread-safe: each connection is served on its own task; the controller is thread-safe.</remarks>
internal sealed class StatusListener(PairController controller) : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Socket? _listener;
    private string? _path;

    public void Start(string path)
    {
        _listener = Protocol.UnixSocketPath.Listen(path, 16);
        _path = path;
        _ = Task.Run(AcceptLoopAsync);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener!.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        {
            try
            {
                using var stream = new NetworkStream(client, ownsSocket: false);
                using var reader = new StreamReader(stream, Encoding.ASCII);
                await using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
                while (await reader.ReadLineAsync(_stop.Token).ConfigureAwait(false) is { } line)
                {
                    await writer.WriteLineAsync(await AnswerAsync(line.Trim()).ConfigureAwait(false)).ConfigureAwait(false);
                }
            }
            catch (Exception exception) when (exception is IOException or OperationCanceledException or SocketException)
            {
                // The client went away; nothing to answer.
                Console.Error.WriteLine($"fastpath: vtpm status connection closed: {exception.Message}");
            }
        }
    }

    private async Task<string> AnswerAsync(string line)
    {
        if (line == "status")
        {
            return controller.StatusJson();
        }

        if (line == "failover")
        {
            string? dropped = controller.ForceFailover();
            return dropped is null ? "{\"error\":\"only one instance is live; nothing to switch\"}" : $"{{\"dropped\":\"{dropped}\"}}";
        }

        if (line == "digests")
        {
            return await controller.DigestsJsonAsync().ConfigureAwait(false);
        }

        if (line.StartsWith("corrupt ", StringComparison.Ordinal) && Environment.GetEnvironmentVariable("FASTPATH_VTPM_TEST_HOOKS") == "1")
        {
            bool ok = await controller.CorruptAsync(line[8..]).ConfigureAwait(false);
            return ok ? "{\"corrupted\":true}" : "{\"error\":\"no such live instance\"}";
        }

        return $"{{\"error\":\"unknown request '{line}': status, failover or digests\"}}";
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener?.Dispose();
        if (_path is not null)
        {
            Protocol.UnixSocketPath.RemoveSocketFile(_path);
        }

        _stop.Dispose();
    }
}
