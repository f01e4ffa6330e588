using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;

namespace FastPath.Vtpm.Pair;

/// <summary>One instance of the pair as the controller sees it: its child process, a pool of connections to
/// its Unix socket, and its load (outstanding commands and an EWMA of recent service time).</summary>
/// <remarks>Thread-safe: calls run concurrently, each on its own pooled connection; counters are
/// interlocked; <see cref="Live"/> is written by the controller under its write lock and read anywhere.</remarks>
public sealed class PairMember : IDisposable
{
    private readonly ConcurrentBag<NetworkStream> _links = [];
    private readonly string _executable;
    private readonly IReadOnlyList<string> _prefix;
    private readonly Lock _loadLock = new();
    private Process? _process;
    private long _outstanding;
    private double _ewmaMicros = 1;
    private int _generation;

    internal PairMember(string name, string stateDirectory, string executable, IReadOnlyList<string> prefix)
    {
        Name = name;
        StateDirectory = stateDirectory;
        SocketPath = "";
        _executable = executable;
        _prefix = prefix;
    }

    public string Name { get; }

    public string StateDirectory { get; }

    /// <summary>This start's socket: unique per controller and start, so an orphan of a killed controller that
    /// binds late can never take over the path its successor listens on.</summary>
    public string SocketPath { get; private set; }

    /// <summary>In lockstep and serving (false while dead, restarting or resyncing).</summary>
    public volatile bool Live;

    public int ProcessId { get; private set; }

    public long Outstanding => Interlocked.Read(ref _outstanding);

    public double EwmaMicros
    {
        get
        {
            lock (_loadLock)
            {
                return _ewmaMicros;
            }
        }
    }

    /// <summary>Load score: the flag goes to the member with the smaller one.</summary>
    public double Load => (Outstanding + 1) * EwmaMicros;

    public long Reads;
    public long Writes;
    public long Divergences;
    public long Restarts;

    /// <summary>Raised (once per process) when the child process exits.</summary>
    internal event Action<PairMember, Process>? Exited;

    /// <summary>Starts the child process and waits until it answers a ping.</summary>
    internal void Start(TimeSpan timeout)
    {
        Directory.CreateDirectory(StateDirectory);
        DropLinks();
        foreach (string stale in Directory.EnumerateFiles(StateDirectory, "instance-*.sock"))
        {
            File.Delete(stale);
        }

        SocketPath = Path.Combine(StateDirectory, $"instance-{Environment.ProcessId}-{Interlocked.Increment(ref _generation)}.sock");
        var start = new ProcessStartInfo(_executable) { UseShellExecute = false };
        foreach (string argument in _prefix)
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add("--state");
        start.ArgumentList.Add(StateDirectory);
        start.ArgumentList.Add("--socket");
        start.ArgumentList.Add(SocketPath);
        start.ArgumentList.Add("--parent");
        start.ArgumentList.Add(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Process process = Process.Start(start) ?? throw new InstanceFailedException(Name, $"could not start {_executable}");
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => Exited?.Invoke(this, process);
        _process = process;
        ProcessId = process.Id;
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                (byte status, byte[] payload) = CallAsync(InstanceWire.Ping, ReadOnlyMemory<byte>.Empty, TimeSpan.FromSeconds(2)).AsTask().GetAwaiter().GetResult();
                if (status == InstanceWire.StatusOk && BinaryPrimitives.ReadUInt32BigEndian(payload) == (uint)process.Id)
                {
                    return;
                }

                throw new InstanceFailedException(Name, "a different process answers on the instance socket");
            }
            catch (InstanceFailedException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                DropLinks();
                Thread.Sleep(20);
            }
        }
    }

    /// <summary>SIGKILL the child (a hung or diverged instance is replaced, never trusted again).</summary>
    internal void Kill()
    {
        Process? process = _process;
        if (process is not null && !process.HasExited)
        {
            process.Kill();
            process.WaitForExit(5000);
        }

        DropLinks();
    }

    /// <summary>One request/response on a pooled connection; any failure or timeout is an
    /// <see cref="InstanceFailedException"/> and the connection is dropped.</summary>
    internal async ValueTask<(byte Status, byte[] Payload)> CallAsync(byte op, ReadOnlyMemory<byte> payload, TimeSpan timeout)
    {
        Interlocked.Increment(ref _outstanding);
        long started = Stopwatch.GetTimestamp();
        NetworkStream? link = null;
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            if (!_links.TryTake(out link))
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancel.Token).ConfigureAwait(false);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }

                link = new NetworkStream(socket, ownsSocket: true);
            }

            await InstanceWire.WriteAsync(link, op, payload, cancel.Token).ConfigureAwait(false);
            (byte Op, byte[] Payload)? frame = await InstanceWire.ReadAsync(link, cancel.Token).ConfigureAwait(false);
            if (frame is null)
            {
                throw new EndOfStreamException("connection closed");
            }

            _links.Add(link);
            link = null;
            double micros = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
            lock (_loadLock)
            {
                // Recent service time dominates: a hiccup on one instance moves the flag within a few commands.
                _ewmaMicros = (0.8 * _ewmaMicros) + (0.2 * micros);
            }

            return frame.Value;
        }
        catch (Exception exception) when (exception is IOException or SocketException or OperationCanceledException or InvalidDataException or ObjectDisposedException)
        {
            string what = exception is OperationCanceledException ? $"no answer within {timeout.TotalMilliseconds} ms" : exception.Message;
            throw new InstanceFailedException(Name, what, exception);
        }
        finally
        {
            link?.Dispose();
            Interlocked.Decrement(ref _outstanding);
        }
    }

    private void DropLinks()
    {
        while (_links.TryTake(out NetworkStream? link))
        {
            link.Dispose();
        }
    }

    public void Dispose()
    {
        Kill();
        _process?.Dispose();
    }
}
