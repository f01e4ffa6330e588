using System.Diagnostics;
using System.Net.Sockets;

namespace FastPath.Vtpm.Pair;

/// <summary>One slot of the pair as the controller sees it: its <see cref="PairInstance"/> (process and
/// transport), its load (outstanding commands and an EWMA of recent service time), its counters and the entropy
/// it generated for the next RANDOM command it is master of. It turns the instance's I/O failures into
/// <see cref="InstanceFailedException"/>.</summary>
/// <remarks>Thread-safe: calls run concurrently, each on its own pooled connection; counters are interlocked;
/// <see cref="Live"/> and <see cref="NextEntropy"/> are written by the controller under its global order and
/// read anywhere.</remarks>
public sealed class PairMember : IDisposable
{
    private readonly Lock _loadLock = new();
    private long _outstanding;
    private double _ewmaMicros = 1;
    private long _sampledAt;

    internal PairMember(PairInstance instance)
    {
        Instance = instance;
        instance.Exited += process => Exited?.Invoke(this, process);
    }

    public PairInstance Instance { get; }

    public string Name => Instance.Name;

    public string StateDirectory => Instance.StateDirectory;

    /// <summary>An answer slower than this means the instance hung.</summary>
    public TimeSpan Timeout => Instance.Timeout;

    /// <summary>In lockstep and serving (false while dead, restarting or resyncing).</summary>
    public volatile bool Live;

    /// <summary>32 bytes this instance drew from its system source for the next RANDOM command it runs as master
    /// (null: none yet). Touched only under the controller's global order.</summary>
    internal byte[]? NextEntropy;

    public int ProcessId => Instance.ProcessId;

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

    /// <summary>A member that missed this many flags in a row gets the next one (about 1.5 % of commands at most).</summary>
    public const long StaleFlags = 64;

    /// <summary>Flags given to the other member since this one last had it (written by the controller's flag choice).</summary>
    internal long FlagsMissed;

    /// <summary>Whether the service-time average has had no sample for <paramref name="age"/>: a member that lost
    /// the flag after one slow command would otherwise keep its stale average (and lose every flag) forever.</summary>
    public bool LoadIsStale(TimeSpan age) => Stopwatch.GetElapsedTime(Interlocked.Read(ref _sampledAt)) > age;

    public long Reads;
    public long Writes;
    public long Divergences;
    public long Restarts;

    /// <summary>Raised (once per process) when the child process exits.</summary>
    internal event Action<PairMember, Process>? Exited;

    /// <summary>Starts the child process and waits until it answers.</summary>
    internal void Start(TimeSpan timeout)
    {
        NextEntropy = null;
        Instance.Start(timeout);
    }

    /// <summary>SIGKILL the child (a hung or diverged instance is replaced, never trusted again).</summary>
    internal void Kill() => Instance.Kill();

    /// <summary>Sends one TPM command and returns the connection now owed its answer: pass it to
    /// <see cref="Receive"/>. Sending to both instances before receiving from either lets them work in parallel.</summary>
    internal InstanceConnection Send(byte flags, ReadOnlySpan<byte> entropy, ReadOnlySpan<byte> command)
    {
        Interlocked.Increment(ref _outstanding);
        try
        {
            return Instance.Send(flags, entropy, command);
        }
        catch (Exception exception) when (PairInstance.IsLinkFailure(exception))
        {
            Interlocked.Decrement(ref _outstanding);
            throw Failed(exception);
        }
    }

    /// <summary>Reads the answer owed on <paramref name="link"/>; afterwards <see cref="InstanceConnection.Payload"/>
    /// holds it until the link is given back with <see cref="Return"/>. A failure disposes the link.</summary>
    internal void Receive(InstanceConnection link)
    {
        try
        {
            Instance.Receive(link);
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
        catch (Exception exception) when (PairInstance.IsLinkFailure(exception))
        {
            throw Failed(exception);
        }
        finally
        {
            Interlocked.Decrement(ref _outstanding);
        }
    }

    internal void Return(InstanceConnection link) => Instance.Return(link);

    internal void Discard(InstanceConnection link) => Instance.Discard(link);

    internal byte[] Digest() => Guard(Instance.Digest);

    internal bool Flush() => Guard(Instance.Flush);

    internal byte[]? TakeVolatile() => Guard(Instance.TakeVolatile);

    internal bool AdoptVolatile(byte[] state, bool durable) => Guard(() => Instance.AdoptVolatile(state, durable));

    internal byte[] Entropy() => Guard(Instance.Entropy);

    /// <summary>Runs <paramref name="action"/> on a fresh control connection to the instance.</summary>
    internal T Control<T>(Func<SwtpmControlClient, T> action) => Guard(() =>
    {
        using SwtpmControlClient control = Instance.OpenControl();
        return action(control);
    });

    private T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception exception) when (PairInstance.IsLinkFailure(exception))
        {
            throw Failed(exception);
        }
    }

    private InstanceFailedException Failed(Exception exception)
    {
        string what = exception is SocketException { SocketErrorCode: SocketError.TimedOut or SocketError.WouldBlock }
            ? $"no answer within {Timeout.TotalMilliseconds} ms"
            : exception.Message;
        return new InstanceFailedException(Name, what, exception);
    }

    public void Dispose() => Instance.Dispose();
}
