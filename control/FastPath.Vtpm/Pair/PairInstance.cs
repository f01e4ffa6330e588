using System.Collections.Concurrent;
using System.Diagnostics;

namespace FastPath.Vtpm.Pair;

/// <summary>The seam between the pair's controller and one vTPM process: how it is started and killed, how a TPM
/// command travels to it (a pool of blocking connections to its command socket), whether it can replay entropy
/// the controller supplies, and its swtpm control channel (state blobs, locality, power cycle), which every kind
/// serves the same way. Implementations: <see cref="FastpathInstance"/> (our engine) and <see cref="SwtpmInstance"/>.</summary>
/// <remarks>Thread-safe: commands run concurrently, each on its own pooled connection (at most
/// <see cref="MaxLinks"/> when the process serves one connection at a time); start and kill come from the
/// controller's global order or its rejoin task, never concurrently with each other.</remarks>
public abstract class PairInstance : IDisposable
{
    private readonly ConcurrentBag<InstanceConnection> _links = [];
    private readonly SemaphoreSlim? _slots;
    private Process? _process;
    private int _generation;

    protected PairInstance(string name, string stateDirectory, TimeSpan timeout, int maxLinks)
    {
        Name = name;
        StateDirectory = stateDirectory;
        Timeout = timeout;
        _slots = maxLinks > 0 ? new SemaphoreSlim(maxLinks, maxLinks) : null;
    }

    public string Name { get; }

    public string StateDirectory { get; }

    /// <summary>An answer slower than this means the instance hung.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>"fastpath" or "swtpm" (status JSON).</summary>
    public abstract string Kind { get; }

    /// <summary>Whether a RANDOM command can carry the master's entropy to this instance so both consume the same
    /// bytes; when false the pair runs RANDOM on the master only and copies its state into the slave.</summary>
    public abstract bool CanReplayEntropy { get; }

    /// <summary>Whether the instance's engine is deterministic given the state the pair copies, except for the
    /// commands <see cref="LockstepClassification"/> names (libtpms: its DRBG is in the volatile state): RANDOM
    /// commands then run on both in parallel and the responses are compared, and only the named ones are
    /// handed over from the master.</summary>
    public virtual bool DrbgLockstep => false;

    public int ProcessId { get; private set; }

    /// <summary>This start's command socket (unique per controller and start, so an orphan of a killed controller
    /// that binds late can never take over the path its successor uses).</summary>
    public string CommandPath { get; private set; } = "";

    /// <summary>This start's swtpm control socket.</summary>
    public string ControlPath { get; private set; } = "";

    /// <summary>Raised (once per process) when the child process exits.</summary>
    internal event Action<Process>? Exited;

    /// <summary>Starts the child process and waits until it answers on both channels.</summary>
    internal void Start(TimeSpan timeout)
    {
        Directory.CreateDirectory(StateDirectory);
        int generation = Interlocked.Increment(ref _generation);
        DropLinks();
        foreach (string stale in Directory.EnumerateFiles(StateDirectory, "instance-*.sock"))
        {
            File.Delete(stale);
        }

        CommandPath = Path.Combine(StateDirectory, $"instance-{Environment.ProcessId}-{generation}.sock");
        ControlPath = Path.Combine(StateDirectory, $"instance-{Environment.ProcessId}-{generation}.ctrl.sock");
        BeforeStart();
        Process process = Process.Start(StartInfo(CommandPath, ControlPath)) ?? throw new InstanceFailedException(Name, $"could not start the {Kind} instance");
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => Exited?.Invoke(process);
        _process = process;
        ProcessId = process.Id;
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                if (IsReady(process))
                {
                    return;
                }

                throw new InstanceFailedException(Name, "a different process answers on the instance socket");
            }
            catch (Exception exception) when (IsLinkFailure(exception) && DateTime.UtcNow < deadline && !process.HasExited)
            {
                DropLinks();
                Thread.Sleep(10);
            }
            catch (Exception exception) when (IsLinkFailure(exception))
            {
                throw new InstanceFailedException(Name, process.HasExited ? $"exited with {process.ExitCode} while starting" : $"not ready within {timeout.TotalSeconds} s: {exception.Message}", exception);
            }
        }
    }

    /// <summary>Cleanup before a start (e.g. an orphan of a killed controller that still holds the state).</summary>
    protected virtual void BeforeStart()
    {
    }

    protected abstract ProcessStartInfo StartInfo(string commandPath, string controlPath);

    /// <summary>True when the started process answers; a link exception while it is still coming up.</summary>
    protected abstract bool IsReady(Process process);

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

    /// <summary>Sends one TPM command on a pooled connection and returns that connection, now owed an answer
    /// (<see cref="Receive"/>, then <see cref="Return"/>). A failure disposes the connection and throws.</summary>
    /// <param name="flags"><see cref="InstanceWire"/> execute flags (ignored by an instance without them).</param>
    /// <param name="entropy">The master's 32 bytes, or empty (only when <see cref="CanReplayEntropy"/>).</param>
    internal InstanceConnection Send(byte flags, ReadOnlySpan<byte> entropy, ReadOnlySpan<byte> command)
    {
        InstanceConnection link = Take();
        try
        {
            Write(link, flags, entropy, command);
            return link;
        }
        catch
        {
            Discard(link);
            throw;
        }
    }

    private protected abstract void Write(InstanceConnection link, byte flags, ReadOnlySpan<byte> entropy, ReadOnlySpan<byte> command);

    /// <summary>Reads the answer owed on <paramref name="link"/> into its buffer; a failure disposes the link.</summary>
    internal void Receive(InstanceConnection link)
    {
        try
        {
            Read(link);
        }
        catch
        {
            Discard(link);
            throw;
        }
    }

    private protected abstract void Read(InstanceConnection link);

    /// <summary>Parses the answer just received on <paramref name="link"/>; false when it is malformed or refused.</summary>
    internal abstract bool TryParse(InstanceConnection link, out ExecuteAnswer answer);

    /// <summary>A connection from the pool, or a new one (waiting for a free slot when the process serves only
    /// <see cref="MaxLinks"/> connections; a slot is held until the connection is returned or discarded).</summary>
    private protected InstanceConnection Take()
    {
        _slots?.Wait();
        if (_links.TryTake(out InstanceConnection? link))
        {
            return link;
        }

        try
        {
            return InstanceConnection.Open(CommandPath, Timeout, Volatile.Read(ref _generation));
        }
        catch
        {
            _slots?.Release();
            throw;
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

        _slots?.Release();
    }

    /// <summary>Closes a link that failed or carries a malformed answer.</summary>
    internal void Discard(InstanceConnection link)
    {
        link.Dispose();
        _slots?.Release();
    }

    /// <summary>Whether <see cref="Digest"/> covers the whole state, volatile part included: only then may a state
    /// transfer be skipped because the digests already agree (a restarted swtpm has the survivor's permanent state
    /// on its disk, equal digest, but lost its volatile state).</summary>
    public virtual bool DigestCoversAllState => true;

    /// <summary>A digest of the instance's state, equal on two instances in lockstep.</summary>
    internal abstract byte[] Digest();

    /// <summary>Blocks until every state change made so far is durable; false when the disk refused.</summary>
    internal abstract bool Flush();

    /// <summary>Durable saves and the persistence lag (last, maximum ms), or null when the kind cannot tell (swtpm).</summary>
    internal virtual (long Saves, double LastMs, double MaxMs)? Persistence() => null;

    /// <summary>32 fresh bytes from the instance's system entropy source (only when <see cref="CanReplayEntropy"/>).</summary>
    internal abstract byte[] Entropy();

    /// <summary>The state digest and volatile blob over the instance's own wire (a hand-over's first half), or
    /// null when the kind has no such op (swtpm: its state moves over the control channel).</summary>
    internal virtual byte[]? TakeVolatile() => null;

    /// <summary>Resumes from the master's <paramref name="state"/> (<see cref="TakeVolatile"/>); false when the
    /// instance refused (its permanent state differs) or the kind has no such op.</summary>
    internal virtual bool AdoptVolatile(byte[] state, bool durable) => false;

    /// <summary>A new connection to the swtpm control channel; the caller disposes it.</summary>
    internal SwtpmControlClient OpenControl() => SwtpmControlClient.Open(ControlPath, Timeout);

    internal static bool IsLinkFailure(Exception exception) =>
        exception is IOException or System.Net.Sockets.SocketException or InvalidDataException or ObjectDisposedException;

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
        _slots?.Dispose();
        GC.SuppressFinalize(this);
    }
}
