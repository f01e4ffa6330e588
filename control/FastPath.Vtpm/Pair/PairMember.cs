using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;

namespace FastPath.Vtpm.Pair;

/// <summary>One instance of the pair as the controller sees it: its child process, a pool of blocking connections
/// to its Unix socket, its load (outstanding commands and an EWMA of recent service time) and the entropy it
/// generated for the next RANDOM command it is master of.</summary>
/// <remarks>Thread-safe: calls run concurrently, each on its own pooled connection; counters are interlocked;
/// <see cref="Live"/> and <see cref="NextEntropy"/> are written by the controller under its global order and
/// read anywhere.</remarks>
public sealed class PairMember : IDisposable
{
    private readonly ConcurrentBag<InstanceConnection> _links = [];
    private readonly string _executable;
    private readonly IReadOnlyList<string> _prefix;
    private readonly Lock _loadLock = new();
    private Process? _process;
    private long _outstanding;
    private double _ewmaMicros = 1;
    private long _sampledAt;
    private int _generation;

    internal PairMember(string name, string stateDirectory, string executable, IReadOnlyList<string> prefix, TimeSpan timeout)
    {
        Name = name;
        StateDirectory = stateDirectory;
        SocketPath = "";
        Timeout = timeout;
        _executable = executable;
        _prefix = prefix;
    }

    public string Name { get; }

    public string StateDirectory { get; }

    /// <summary>This start's socket: unique per controller and start, so an orphan of a killed controller that
    /// binds late can never take over the path its successor listens on.</summary>
    public string SocketPath { get; private set; }

    /// <summary>An answer slower than this means the instance hung.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>In lockstep and serving (false while dead, restarting or resyncing).</summary>
    public volatile bool Live;

    /// <summary>32 bytes this instance drew from its system source for the next RANDOM command it runs as master
    /// (null: none yet). Touched only under the controller's global order.</summary>
    internal byte[]? NextEntropy;

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

    /// <summary>A load average older than this is refreshed by giving that member the next flag.</summary>
    public static readonly TimeSpan StaleLoad = TimeSpan.FromMilliseconds(100);

    /// <summary>Whether the service-time average has had no sample for <paramref name="age"/>: a member that lost
    /// the flag after one slow command would otherwise keep its stale average (and lose every flag) forever.</summary>
    public bool LoadIsStale(TimeSpan age) => Stopwatch.GetElapsedTime(Interlocked.Read(ref _sampledAt)) > age;

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
        int generation = Interlocked.Increment(ref _generation);
        DropLinks();
        NextEntropy = null;
        foreach (string stale in Directory.EnumerateFiles(StateDirectory, "instance-*.sock"))
        {
            File.Delete(stale);
        }

        SocketPath = Path.Combine(StateDirectory, $"instance-{Environment.ProcessId}-{generation}.sock");
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
                (byte status, byte[] payload) = Call(InstanceWire.Ping, []);
                if (status == InstanceWire.StatusOk && payload.Length == 4 && BinaryPrimitives.ReadUInt32BigEndian(payload) == (uint)process.Id)
                {
                    return;
                }

                throw new InstanceFailedException(Name, "a different process answers on the instance socket");
            }
            catch (InstanceFailedException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                DropLinks();
                Thread.Sleep(10);
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

    /// <summary>Sends one request on a pooled connection (opened when none is idle) and returns that connection,
    /// now owed an answer: pass it to <see cref="Receive"/>. Sending to both instances before receiving from
    /// either lets them work in parallel.</summary>
    internal InstanceConnection Send(byte op, ReadOnlySpan<byte> head, ReadOnlySpan<byte> body)
    {
        InstanceConnection? link = null;
        Interlocked.Increment(ref _outstanding);
        try
        {
            if (!_links.TryTake(out link))
            {
                link = InstanceConnection.Open(SocketPath, Timeout, Volatile.Read(ref _generation));
            }

            link.Send(op, head, body);
            return link;
        }
        catch (Exception exception) when (IsLinkFailure(exception))
        {
            link?.Dispose();
            Interlocked.Decrement(ref _outstanding);
            throw Failed(exception);
        }
    }

    /// <summary>Reads the answer owed on <paramref name="link"/>; afterwards <see cref="InstanceConnection.Payload"/>
    /// holds it until the link is given back with <see cref="Return"/>. A failure disposes the link.</summary>
    /// <param name="sample">Whether this answer's time feeds the load (TPM commands only, not blob transfers).</param>
    internal void Receive(InstanceConnection link, bool sample = true)
    {
        try
        {
            link.Receive();
            if (sample)
            {
                long now = Stopwatch.GetTimestamp();
                double micros = Stopwatch.GetElapsedTime(link.SentAt, now).TotalMicroseconds;
                bool stale = LoadIsStale(StaleLoad);
                lock (_loadLock)
                {
                    // Recent service time dominates: a hiccup on one instance moves the flag within a few commands,
                    // and an average with no sample for a while is history, replaced by the present.
                    _ewmaMicros = stale ? micros : (0.8 * _ewmaMicros) + (0.2 * micros);
                }

                Interlocked.Exchange(ref _sampledAt, now);
            }
        }
        catch (Exception exception) when (IsLinkFailure(exception))
        {
            link.Dispose();
            throw Failed(exception);
        }
        finally
        {
            Interlocked.Decrement(ref _outstanding);
        }
    }

    /// <summary>Gives a link back to the pool (dropped if it belongs to an earlier start of the instance).</summary>
    internal void Return(InstanceConnection link)
    {
        if (link.Generation == Volatile.Read(ref _generation))
        {
            _links.Add(link);
        }
        else
        {
            link.Dispose();
        }
    }

    /// <summary>One whole request/answer for the cold paths (blobs, digests, pings); the answer is copied out.</summary>
    internal (byte Status, byte[] Payload) Call(byte op, ReadOnlySpan<byte> payload)
    {
        InstanceConnection link = Send(op, payload, []);
        Receive(link, sample: false);
        (byte, byte[]) answer = (link.Status, link.Payload.ToArray());
        Return(link);
        return answer;
    }

    private static bool IsLinkFailure(Exception exception) =>
        exception is IOException or SocketException or InvalidDataException or ObjectDisposedException;

    private InstanceFailedException Failed(Exception exception)
    {
        string what = exception is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock }
            ? $"no answer within {Timeout.TotalMilliseconds} ms"
            : exception.Message;
        return new InstanceFailedException(Name, what, exception);
    }

    private void DropLinks()
    {
        while (_links.TryTake(out InstanceConnection? link))
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
