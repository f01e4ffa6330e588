namespace FastPath.Dataplane.Pipeline;

/// <summary>What a worker does once its ports have been empty for a while (after a short spin either way).</summary>
public enum WorkerIdle
{
    /// <summary>
    /// Blocks in poll(2) on its ports' descriptors until the kernel has a frame (or a few milliseconds pass), when every
    /// port it polls can wake it (AF_PACKET, TAP); otherwise, as <see cref="Spin"/>. The core is free while no traffic
    /// comes: on a shared machine the hosts' TCP stacks and softirqs get it.
    /// </summary>
    Poll,

    /// <summary>Keeps polling and yields the core (sched_yield) between empty polls: never sleeps, burns the core.</summary>
    Spin,
}
