using System.Diagnostics;
using FastPath.Dataplane.Pipeline;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Pipeline;

/// <summary>
/// The worker's idle policy against real kernels: config (user host ⇄ veth ⇄ FastPath on AF_PACKET ⇄ veth ⇄ secure
/// host, worker told to sleep in poll(2)) → let it idle, then ping across → verify it slept (its idle polls are bounded
/// by the sleep's timeout, where a spinning worker counts thousands per second) and that the kernel woke it for
/// every ping.
/// </summary>
public sealed class WorkerIdleTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [Fact]
    public void An_idle_worker_sleeps_in_poll_and_the_kernel_wakes_it_for_each_frame()
    {
        using TranslationLab lab = TranslationLab.Create(idle: WorkerIdle.Poll);
        Assert.True(lab.WorkerSleeps);
        Ping(lab, count: 1);

        // A second with no traffic but what the kernels send by themselves (IPv6 neighbour discovery, say): each
        // frame costs one batch and one spin of DefaultSpinPolls, each timed-out sleep one idle poll.
        WorkerCounters before = lab.Counters.Read(0);
        var clock = Stopwatch.StartNew();
        Thread.Sleep(1000);
        WorkerCounters after = lab.Counters.Read(0);
        double elapsedMs = clock.Elapsed.TotalMilliseconds;
        long batches = after.Batches - before.Batches;
        long idlePolls = after.IdlePolls - before.IdlePolls;
        long bound = ((batches + 1) * (Worker.DefaultSpinPolls + 1)) + (long)(elapsedMs / Worker.IdleWaitMilliseconds) + 1;
        Assert.True(idlePolls <= bound, $"{idlePolls} idle polls in {elapsedMs:0} ms with {batches} batches: more than {bound}, the worker did not sleep");
        Assert.True(idlePolls > 0, "the sleeping worker never woke up on its timeout");

        // Each echo request and reply wakes the sleeping worker; none is lost.
        long rxBefore = lab.Counters.Read(0).RxPackets;
        Ping(lab, count: 3);
        Assert.True(lab.Counters.Read(0).RxPackets - rxBefore >= 6);
    }

    [Fact]
    public void A_worker_with_a_port_that_cannot_wake_it_keeps_polling_whatever_the_policy()
    {
        using var dir = new TempDirectory();
        using TranslationLab guest = TranslationLab.Create(guestSocket: dir.File("guest.sock"), idle: WorkerIdle.Poll);
        Assert.False(guest.WorkerSleeps);
        Ping(guest, count: 1);
    }

    [Fact]
    public void A_worker_told_to_spin_never_sleeps()
    {
        using TranslationLab lab = TranslationLab.Create(idle: WorkerIdle.Spin);
        Assert.False(lab.WorkerSleeps);
        Ping(lab, count: 1);
    }

    private static void Ping(TranslationLab lab, int count)
    {
        ProcessResult ping = lab.Lab.TryExec(lab.UserHost, s_bound, "ping", "-c", count.ToString(System.Globalization.CultureInfo.InvariantCulture), "-i", "0.2", "-W", "3", TranslationLab.SecureHostV4);
        Assert.True(ping.ExitCode == 0, "ping: " + ping.StandardOutput + ping.StandardError);
    }
}
