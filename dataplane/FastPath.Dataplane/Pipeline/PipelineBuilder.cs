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
/// The frame pool holds each worker's RX batch and some slack, and no guest ever maps it; each guest port makes its
/// guest's own frames (its quota) per connection.
/// Not thread-safe: one controlling thread configures and builds.
/// </remarks>
public sealed class PipelineBuilder
{
    private readonly List<(PortPlan User, PortPlan Secure, GuestPlan[] Guests)> _pairs = [];
    private readonly MappingTable _table;
    private int[] _cores = [-1];
    private int _batchSize = Worker.DefaultBatchSize;
    private long _packetLimit;
    private WorkerIdle _idle = DefaultIdle;
    private int _spinPolls = Worker.DefaultSpinPolls;

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

    /// <summary>Frames per RX burst when <see cref="WithBatchSize"/> is not called (the daemon's <c>batch</c> default).</summary>
    public const int DefaultBatchSize = Worker.DefaultBatchSize;

    /// <summary>Frames per RX burst.</summary>
    public PipelineBuilder WithBatchSize(int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchSize, TranslationStage.MaxBatch);
        _batchSize = batchSize;
        return this;
    }

    /// <summary>The idle policy when <see cref="WithIdle"/> is not called (the daemon's <c>idle</c> default).</summary>
    public const WorkerIdle DefaultIdle = WorkerIdle.Poll;

    /// <summary>Empty polls before an idle worker sleeps or yields when <see cref="WithIdle"/> does not say (the daemon's <c>idle_spin</c> default).</summary>
    public const int DefaultSpinPolls = Worker.DefaultSpinPolls;

    /// <summary>
    /// What a worker does once its ports stay empty for <paramref name="spinPolls"/> polls: sleep in poll(2) until the
    /// kernel has a frame, or keep polling and yield the core. A worker with a port that cannot wake it (in-memory
    /// ports, a guest) keeps polling either way.
    /// </summary>
    public PipelineBuilder WithIdle(WorkerIdle idle, int spinPolls = DefaultSpinPolls)
    {
        if (!Enum.IsDefined(idle))
        {
            throw new ArgumentOutOfRangeException(nameof(idle), idle, "poll or spin");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(spinPolls);
        _idle = idle;
        _spinPolls = spinPolls;
        return this;
    }

    /// <summary>
    /// Each worker stops by itself once it has received its share of <paramref name="packets"/> (split as evenly as
    /// the worker count allows): a run of known length, what <c>fastpath bench</c> measures.
    /// </summary>
    public PipelineBuilder WithPacketLimit(long packets)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(packets);
        _packetLimit = packets;
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

    /// <summary>Opens every port and creates the workers; nothing runs until <see cref="RunningPipeline.Start"/>.
    /// Without a pair no worker has a port, so none gets a thread: the pipeline of a daemon that only serves its
    /// control plane.</summary>
    public RunningPipeline Build()
    {
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
            // Each worker holds one batch of RX frames for good; the rest is slack for the pool's own checks.
            pool = new FramePool((uint)((workers * _batchSize) + 64));
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
                    var guestPorts = new PacketPort[guests.Length];
                    var guestKeys = new MappingKey[guests.Length];
                    for (int g = 0; g < guests.Length; g++)
                    {
                        GuestPlan guest = guests[g];
                        guestPorts[g] = new GuestPort(guest.Name, guest.SocketPath, guest.Tenant, guest.Address, guest.MaxHeldFrames);
                        guestKeys[g] = MappingKey.User(guest.Tenant, guest.Address);
                        ports.Add(new RunningPipeline.PortInstance(guest.Name, PortSide.User, w, guestPorts[g]));
                    }

                    var toSecure = new TranslationStage(_table, TranslationDirection.UserToSecure, EgressMacs.Create(securePort.Mac, securePort.PeerMac));
                    var toUser = new TranslationStage(_table, TranslationDirection.SecureToUser, EgressMacs.Create(userPort.Mac, userPort.PeerMac), guestKeys);
                    if (!user.TransmitOnly)
                    {
                        bindings[w].Add(new PortBinding(userPort, toSecure, securePort));
                    }

                    if (!secure.TransmitOnly)
                    {
                        bindings[w].Add(new PortBinding(securePort, toUser, userPort, guestPorts));
                    }
                    foreach (PacketPort guestPort in guestPorts)
                    {
                        bindings[w].Add(new PortBinding(guestPort, toSecure, securePort));
                    }
                }
            }

            counters = new Counters(workers);
            for (int w = 0; w < workers; w++)
            {
                if (bindings[w].Count != 0)
                {
                    long share = _packetLimit == 0 ? 0 : Share(_packetLimit, w, workers);
                    created.Add(new Worker(w, _cores[w], bindings[w], pool, counters, _batchSize, share, _idle, _spinPolls));
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

            // Workers first: they may be transmitting into a guest port's memory.
            foreach (RunningPipeline.PortInstance port in ports)
            {
                port.Port.Dispose();
            }

            counters?.Dispose();
            pool?.Dispose();
            throw;
        }
    }

    /// <summary>Worker <paramref name="worker"/>'s part of <paramref name="total"/> split over <paramref name="workers"/>:
    /// as even as it goes, the first ones take one more for the remainder.</summary>
    internal static long Share(long total, int worker, int workers) => (total / workers) + (worker < total % workers ? 1 : 0);

    private static PacketPort Open(PortPlan plan, int worker, int workers, PortSide side, List<RunningPipeline.PortInstance> ports)
    {
        PacketPort port = plan.Open(worker, workers);
        ports.Add(new RunningPipeline.PortInstance(plan.Name, side, worker, port));
        port.SetMacs(plan.Mac, plan.Peer);
        return port;
    }
}
