using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace FastPath.Bench.Vtpm;

/// <summary>
/// Issue 9's failover figure: while a <see cref="FailoverWriter"/> streams NV writes and PCR extends into the
/// pair, <c>kill -9</c> one instance (master, slave, master, … as the issue's chaos test does) every 300-500 ms
/// (seeded), and measure from the kill to the next acknowledged command (failover) and to the status endpoint
/// showing both members live again with the killed one restarted (rejoin); min/median/max per role and overall.
/// At the end NV_Read must return the last acknowledged NV write's data.
/// </summary>
/// <remarks>
/// usage: <c>vtpm-failover [--kills 20] [--durability pair|sync] [--seed 1]</c>. Only PIDs that the status
/// endpoint names and whose parent is the controller this run started are killed.
/// </remarks>
internal static class VtpmFailoverHarness
{
    private const string Usage = "usage: vtpm-failover [--kills 20] [--durability pair|sync] [--seed 1]";
    private static readonly TimeSpan FailoverLimit = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RejoinLimit = TimeSpan.FromSeconds(60);

    public static int Run(string[] args)
    {
        int kills;
        int seed;
        string? durability;
        try
        {
            var options = new HarnessOptions(args, "--kills", "--durability", "--seed");
            kills = options.Int("--kills", 20, 1, 1000);
            seed = options.Int("--seed", 1, 0, int.MaxValue);
            durability = options.Text("--durability");
            if (durability is not (null or "pair" or "sync"))
            {
                throw new ArgumentException($"--durability {durability}: must be pair or sync");
            }
        }
        catch (ArgumentException exception)
        {
            Console.Error.WriteLine($"vtpm-failover: {exception.Message}\n{Usage}");
            return 2;
        }

        try
        {
            using VtpmServerProcess server = VtpmServerProcess.Start("pair", durability);
            Console.WriteLine($"started pair: {server.CommandLine}" + (VtpmServerProcess.HasDurabilityOption ? "" : " (this build has no --durability option: its one mode)"));
            server.Initialize();
            return Measure(server, kills, seed);
        }
        catch (Exception exception)
        {
            // Every failure ends here, so that the using above always stops the pair this run started
            // (an exception nothing catches would end the process without disposing it).
            Console.Error.WriteLine($"vtpm-failover: {exception.GetType().Name}: {exception.Message}");
            return 1;
        }
    }

    private static int Measure(VtpmServerProcess server, int kills, int seed)
    {
        var random = new Random(seed);
        var failover = new Dictionary<string, List<double>> { ["master"] = [], ["slave"] = [] };
        var rejoin = new Dictionary<string, List<double>> { ["master"] = [], ["slave"] = [] };
        using var writer = new FailoverWriter(server.Port);
        writer.Start();
        WaitFor(() => writer.Acknowledged > 0, FailoverLimit, 1, "the writer's first acknowledged command", server, writer);
        long runStart = Stopwatch.GetTimestamp();
        for (int kill = 0; kill < kills; kill++)
        {
            string role = kill % 2 == 0 ? "master" : "slave";
            Thread.Sleep(random.Next(300, 501));
            PairStatus before = PairStatus.Query(server.StateDirectory);
            PairStatus.Member victim = before.WithRole(role) ?? throw new InvalidOperationException($"kill {kill + 1}: no {role} in {before.Json}");
            using Process process = OwnInstance(victim.Pid, server);
            long killedAt = Stopwatch.GetTimestamp();
            writer.Arm(killedAt);
            process.Kill();
            WaitFor(() => writer.FirstSuccessAfterArm != 0, FailoverLimit, 1, $"kill {kill + 1} ({role} {victim.Name} pid {victim.Pid}): the next acknowledged command", server, writer);
            double failoverMs = Stopwatch.GetElapsedTime(killedAt, writer.FirstSuccessAfterArm).TotalMilliseconds;
            WaitFor(() => Rejoined(server.StateDirectory, victim), RejoinLimit, 10, $"kill {kill + 1} ({role} {victim.Name} pid {victim.Pid}): both members live again", server, writer);
            double rejoinMs = Stopwatch.GetElapsedTime(killedAt).TotalMilliseconds;
            failover[role].Add(failoverMs);
            rejoin[role].Add(rejoinMs);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"kill {kill + 1,2}: {role,-6} {victim.Name} pid {victim.Pid,-7} failover {failoverMs,7:F1} ms  rejoin {rejoinMs,7:F1} ms  acknowledged so far {writer.Acknowledged}"));
        }

        double seconds = Stopwatch.GetElapsedTime(runStart).TotalSeconds;
        if (!writer.Stop(TimeSpan.FromSeconds(15)) || writer.Fault is not null)
        {
            Console.Error.WriteLine($"vtpm-failover: the writer did not finish its last NV write: {writer.Fault ?? "still running after 15 s"}. {server.Diagnostics()}");
            return 1;
        }

        bool nvOk = VerifyNv(server, writer.LastAcknowledgedNvCounter, out string nvReport);
        PairStatus after = PairStatus.Query(server.StateDirectory);
        PrintSummary(kills, failover, rejoin, writer, seconds, after, nvReport);
        return nvOk ? 0 : 1;
    }

    /// <summary>The process named by the status endpoint, after checking that its parent is the controller this
    /// run started (so nothing else on the machine can be killed by a stale or wrong PID).</summary>
    private static Process OwnInstance(int pid, VtpmServerProcess server)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        int parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        return parent == server.ProcessId
            ? Process.GetProcessById(pid)
            : throw new InvalidOperationException($"pid {pid} from the status endpoint is not a child of the controller {server.ProcessId} (parent {parent}); not killing it");
    }

    /// <summary>The killed member is back under a new PID and neither member is down.</summary>
    private static bool Rejoined(string stateDirectory, PairStatus.Member victim)
    {
        PairStatus status = PairStatus.Query(stateDirectory);
        PairStatus.Member? member = status.Named(victim.Name);
        return status.BothLive && member is not null && member.Pid != victim.Pid;
    }

    /// <summary>Polls every <paramref name="pollMilliseconds"/> (1 ms for the writer's fields; 10 ms for the status
    /// endpoint, whose queries would otherwise compete with the rejoin for the two cores); throws naming
    /// <paramref name="what"/> and the pair's state after <paramref name="limit"/>. The failover time itself comes from the
    /// writer's own timestamp, not from this poll.</summary>
    private static void WaitFor(Func<bool> condition, TimeSpan limit, int pollMilliseconds, string what, VtpmServerProcess server, FailoverWriter writer)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(limit.TotalSeconds * Stopwatch.Frequency);
        while (!condition())
        {
            if (!writer.IsRunning)
            {
                throw new InvalidOperationException($"waiting for {what}: the writer stopped: {writer.Fault}. {server.Diagnostics()}");
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"waiting for {what}: nothing within {limit.TotalSeconds} s. {server.Diagnostics()}");
            }

            Thread.Sleep(pollMilliseconds);
        }
    }

    /// <summary>NV_Read on a new connection against the data of the last acknowledged NV_Write.</summary>
    private static bool VerifyNv(VtpmServerProcess server, uint counter, out string report)
    {
        byte[] expected = TpmWire.NvWrite(new byte[TpmWire.NvSize]);
        TpmWire.StampNvWrite(expected, counter);
        byte[] response = new byte[TpmWire.ResponseBufferSize];
        using Socket socket = TpmWire.Connect(server.Port);
        TpmWire.Expect(TpmWire.RoundTrip(socket, TpmWire.NvRead(TpmWire.NvSize), response), "TPM2_NV_Read", server.Target);
        bool ok = response.AsSpan(TpmWire.NvReadDataOffset, TpmWire.NvSize).SequenceEqual(expected.AsSpan(TpmWire.NvWriteDataOffset, TpmWire.NvSize));
        report = ok
            ? $"final NV_Read equals the last acknowledged NV_Write (write #{counter}): OK"
            : $"final NV_Read MISMATCH: expected write #{counter}, read {Convert.ToHexString(response, TpmWire.NvReadDataOffset, TpmWire.NvSize)}";
        return ok;
    }

    private static void PrintSummary(int kills, Dictionary<string, List<double>> failover, Dictionary<string, List<double>> rejoin, FailoverWriter writer, double seconds, PairStatus after, string nvReport)
    {
        Console.WriteLine();
        Console.WriteLine($"{kills} kills (kill -9 of one instance; master, slave, master, …)");
        Console.WriteLine("| killed | kills | failover ms (kill → next ack) min / median / max | rejoin ms (kill → both live) min / median / max |");
        Console.WriteLine("|---|---|---|---|");
        foreach (string role in (string[])["master", "slave"])
        {
            Console.WriteLine($"| {role} | {failover[role].Count} | {Percentiles.MinMedianMax(failover[role])} | {Percentiles.MinMedianMax(rejoin[role])} |");
        }

        Console.WriteLine($"| all | {kills} | {Percentiles.MinMedianMax([.. failover["master"], .. failover["slave"]])} | {Percentiles.MinMedianMax([.. rejoin["master"], .. rejoin["slave"]])} |");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"acknowledged: {writer.Acknowledged} commands in {seconds:F1} s ({writer.NvWritesAcknowledged} NV_Write, {writer.PcrExtendsAcknowledged} PCR_Extend); retried (TPM_RC_RETRY 0x922, not acknowledged): {writer.Retried}; reconnects: {writer.Reconnects}"));
        Console.WriteLine("other failure codes: " + (writer.Failures.Count == 0 ? "none" : string.Join(", ", writer.Failures.Select(f => $"0x{f.Key:x} ×{f.Value}"))));
        Console.WriteLine(nvReport);
        Console.WriteLine($"pair status at the end: failovers={after.Failovers} resyncs={after.Resyncs} " + string.Join(" ", after.Members.Select(m => $"{m.Name}:{m.Role},restarts={m.Restarts}")));
    }
}
