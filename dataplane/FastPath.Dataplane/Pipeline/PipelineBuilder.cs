using FastPath.Dataplane.Guest;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Memory;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Rewrite;

namespace FastPath.Dataplane.Pipeline;

/// <summary>
/// Turns port pairs, worker cores and a mapping table into running workers: frames received on a user port are
/// translated user → secure and leave on its paired secure port; frames received on the secure port are translated
/// secure → user and leave on the user port, or on the pair's guest port that owns their translated (tenant, address).
/// What a guest sends is translated user → secure and leaves on the secure port. Egress MACs are the egress port's own
/// and peer MACs.
/// </summary>
/// <remarks>
/// A pair whose two ports are both <see cref="PortPlan.PerWorker"/> and that has no guest is opened once per worker
/// (the kernel spreads an AF_PACKET interface over the instances with PACKET_FANOUT); any other pair belongs to one
/// worker, assigned round-robin — a guest's RX ring has one producer, so every packet for it must reach one worker.
/// The frame pool holds each worker's RX batch, some slack, and every guest's quota of held frames.
/// Not thread-safe: one controlling thread configures and builds.
/// </remarks>
public sealed class PipelineBuilder
{
    private readonly List<(PortPlan User, PortPlan Secure, GuestPlan[] Guests)> _pairs = [];
    private readonly MappingTable _table;
    private int[] _cores = [-1];
    private int _batchSize = Worker.DefaultBatchSize;

    /// <summary>A builder whose workers read <paramref name="table"/>.</summary>
    public PipelineBuilder(MappingTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        _table = table;
    }

    /// <summary>One worker per entry; an entry is the core it is pinned to, or -1 for none.</summary>
    public PipelineBuilder WithCores(IReadOnlyList<int> cores)
    {
        if (cores.Count == 0 || cores.Count > MappingEpoch.MaxReaders)
        {
            throw new ArgumentException($"between 1 and {MappingEpoch.MaxReaders} workers", nameof(cores));
        }

        _cores = [.. cores];
        return this;
    }

    /// <summary>Frames per RX burst.</summary>
    public PipelineBuilder WithBatchSize(int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchSize, TranslationStage.MaxBatch);
        _batchSize = batchSize;
        return this;
    }

    /// <summary>Joins a user port and a secure port: each one's received frames leave translated on the other.</summary>
    public PipelineBuilder AddPair(PortPlan user, PortPlan secure) => AddPair(user, secure, []);

    /// <summary>
    /// Joins a user port and a secure port, with guest ports on the user side: secure→user packets for a guest's
    /// (tenant, address) go to that guest instead of the user port, and what the guests send leaves on the secure port.
    /// </summary>
    public PipelineBuilder AddPair(PortPlan user, PortPlan secure, IReadOnlyList<GuestPlan> guests)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(secure);
        ArgumentNullException.ThrowIfNull(guests);
        foreach (GuestPlan guest in guests)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(guest.MaxHeldFrames);
        }

        _pairs.Add((user, secure, [.. guests]));
        return this;
    }

    /// <summary>Opens every port and creates the workers; nothing runs until <see cref="RunningPipeline.Start"/>.</summary>
    /// <exception cref="InvalidOperationException">No pair was added.</exception>
    public RunningPipeline Build()
    {
        if (_pairs.Count == 0)
        {
            throw new InvalidOperationException("a pipeline needs at least one user/secure port pair");
        }

        int workers = _cores.Length;
        var ports = new List<RunningPipeline.PortInstance>();
        var bindings = new List<PortBinding>[workers];
        for (int w = 0; w < workers; w++)
        {
            bindings[w] = [];
        }

        FramePool? pool = null;
        Counters? counters = null;
        var created = new List<Worker>();
        try
        {
            // Each worker holds one batch of RX frames for good; guests hold up to their quota; the rest is slack for the pool's own checks.
            long guestFrames = 0;
            foreach ((_, _, GuestPlan[] guests) in _pairs)
            {
                foreach (GuestPlan guest in guests)
                {
                    guestFrames += guest.MaxHeldFrames;
                }
            }

            pool = new FramePool((uint)Math.Min(uint.MaxValue, (workers * _batchSize) + 64 + guestFrames));
            for (int p = 0; p < _pairs.Count; p++)
            {
                (PortPlan user, PortPlan secure, GuestPlan[] guests) = _pairs[p];
                bool fanned = user.PerWorker && secure.PerWorker && guests.Length == 0;
                int first = fanned ? 0 : p % workers;
                int last = fanned ? workers - 1 : first;
                for (int w = first; w <= last; w++)
                {
                    PacketPort userPort = Open(user, w, workers, PortSide.User, ports);
                    PacketPort securePort = Open(secure, w, workers, PortSide.Secure, ports);
                    var toSecure = new TranslationStage(_table, TranslationDirection.UserToSecure, EgressMacs.Create(securePort.Mac, securePort.PeerMac));
                    var toUser = new TranslationStage(_table, TranslationDirection.SecureToUser, EgressMacs.Create(userPort.Mac, userPort.PeerMac));
                    bindings[w].Add(new PortBinding(userPort, toSecure, securePort));
                    bindings[w].Add(new PortBinding(securePort, toUser, userPort));
                    foreach (GuestPlan guest in guests)
                    {
                        var guestPort = new GuestPort(guest.Name, guest.SocketPath, guest.Tenant, guest.Address, pool, guest.MaxHeldFrames);
                        ports.Add(new RunningPipeline.PortInstance(guest.Name, PortSide.User, w, guestPort));
                        bindings[w].Add(new PortBinding(guestPort, toSecure, securePort));
                    }
                }
            }

            counters = new Counters(workers);
            for (int w = 0; w < workers; w++)
            {
                if (bindings[w].Count != 0)
                {
                    created.Add(new Worker(w, _cores[w], bindings[w], pool, counters, _batchSize));
                }
            }

            return new RunningPipeline(created, ports, pool, counters);
        }
        catch (Exception)
        {
            foreach (Worker worker in created)
            {
                worker.Dispose();
            }

            // Ports before the pool: a guest port unmaps the pool's payload slab from its guest first.
            foreach (RunningPipeline.PortInstance port in ports)
            {
                port.Port.Dispose();
            }

            counters?.Dispose();
            pool?.Dispose();
            throw;
        }
    }

    private static PacketPort Open(PortPlan plan, int worker, int workers, PortSide side, List<RunningPipeline.PortInstance> ports)
    {
        PacketPort port = plan.Open(worker, workers);
        ports.Add(new RunningPipeline.PortInstance(plan.Name, side, worker, port));
        port.SetMacs(plan.Mac, plan.Peer);
        return port;
    }
}
