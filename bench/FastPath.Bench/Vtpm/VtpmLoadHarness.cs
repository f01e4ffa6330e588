using System.Diagnostics;
using System.Globalization;

namespace FastPath.Bench.Vtpm;

/// <summary>
/// Issue 9's throughput figure: commands per second of the read-heavy and write-heavy <see cref="VtpmMix"/>es
/// through the pair, a single FastPath instance and swtpm, all started once as child processes of this run and
/// measured in turn (round by round, cell by cell, target by target, so that machine noise falls on all alike);
/// the table gives the median over the rounds and the ratios pair/single and pair/swtpm from the same run.
/// </summary>
/// <remarks>
/// usage: <c>vtpm-load [--targets pair,pair-sync,single,swtpm] [--seconds N] [--clients 1,8] [--rounds 2] [--mixes …]</c>;
/// the HMAC-session and key mixes run only up to their <see cref="VtpmMix.MaxClients"/>.
/// Each client is its own thread with its own persistent connection, except swtpm with more than one client:
/// swtpm serves one connection at a time (persistent concurrent clients queue behind the first until it
/// closes), so there each client opens a new connection per command and swtpm serves them one after another.
/// </remarks>
internal static class VtpmLoadHarness
{
    private const string Usage = "usage: vtpm-load [--targets pair,pair-sync,single,swtpm] [--seconds N] [--clients 1,8] [--rounds 2] [--mixes read-heavy,write-heavy,read-heavy-hmac,write-heavy-hmac,create-primary-ecc,sign,quote]";
    private const double WarmUpSeconds = 1;

    public static int Run(string[] args)
    {
        string[] targets;
        int seconds;
        int rounds;
        int[] clientCounts;
        VtpmMix[] mixes;
        try
        {
            var options = new HarnessOptions(args, "--targets", "--seconds", "--clients", "--rounds", "--mixes");
            string[] names = [.. VtpmMix.All.Select(m => m.Name)];
            mixes = [.. options.List("--mixes", names, names).Select(name => VtpmMix.All.First(m => m.Name == name))];
            targets = options.List("--targets", VtpmServerProcess.Targets, VtpmServerProcess.Targets);
            seconds = options.Int("--seconds", 5, 1, 600);
            rounds = options.Int("--rounds", 2, 1, 20);
            clientCounts = options.IntList("--clients", [1, 8], 1, 64);
        }
        catch (ArgumentException exception)
        {
            Console.Error.WriteLine($"vtpm-load: {exception.Message}\n{Usage}");
            return 2;
        }

        var servers = new List<VtpmServerProcess>();
        try
        {
            foreach (string target in targets)
            {
                if (VtpmServerProcess.Unsupported(target) is { } reason)
                {
                    Console.WriteLine($"note: target {target} skipped: {reason}");
                    continue;
                }

                VtpmServerProcess server = VtpmServerProcess.Start(target);
                servers.Add(server);
                server.Initialize();
                Console.WriteLine($"started {target}: {server.CommandLine}");
            }

            if (servers.Count == 0)
            {
                Console.Error.WriteLine("vtpm-load: no target left to measure");
                return 1;
            }

            return Measure(servers, mixes, seconds, rounds, clientCounts);
        }
        catch (Exception exception)
        {
            // Every failure ends here, so that the finally below always stops the servers this run started
            // (an exception nothing catches would end the process without running it).
            Console.Error.WriteLine($"vtpm-load: {exception.GetType().Name}: {exception.Message}");
            return 1;
        }
        finally
        {
            foreach (VtpmServerProcess server in servers)
            {
                server.Dispose();
            }
        }
    }

    private static int Measure(List<VtpmServerProcess> servers, VtpmMix[] mixes, int seconds, int rounds, int[] clientCounts)
    {
        // (mix, clients, target) → commands/s of each round, and every latency (µs) of every round.
        var rates = new Dictionary<(string, int, string), List<double>>();
        var latencies = new Dictionary<(string, int, string), List<double>>();
        var cpu = new Dictionary<(string, int, string), List<double>>();
        for (int round = 1; round <= rounds; round++)
        {
            foreach (VtpmMix mix in mixes)
            {
                foreach (int clients in clientCounts.Where(c => c <= mix.MaxClients))
                {
                    foreach (VtpmServerProcess server in servers)
                    {
                        var key = (mix.Name, clients, server.Target);
                        (double rate, List<double> micros, double cpuMicros, string? failure) = RunCell(server, mix, clients, seconds);
                        if (failure is not null)
                        {
                            Console.Error.WriteLine($"vtpm-load: {server.Target} {mix.Name} ×{clients} round {round}: {failure}; aborting. {server.Diagnostics()}");
                            return 1;
                        }

                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: {server.Target,-9} {mix.Name,-11} clients={clients,-2} {rate,9:F0} commands/s, server CPU {cpuMicros,6:F1} µs/command ({Driven(server, clients)})"));
                        (cpu.TryGetValue(key, out List<double>? c) ? c : cpu[key] = []).Add(cpuMicros);
                        (rates.TryGetValue(key, out List<double>? r) ? r : rates[key] = []).Add(rate);
                        (latencies.TryGetValue(key, out List<double>? l) ? l : latencies[key] = []).AddRange(micros);
                    }
                }
            }
        }

        PrintTable(servers, mixes, clientCounts, rounds, seconds, rates, latencies, cpu);
        foreach (VtpmServerProcess server in servers)
        {
            if (server.Target.StartsWith("pair", StringComparison.Ordinal))
            {
                PairStatus status = PairStatus.Query(server.StateDirectory);
                Console.WriteLine($"{server.Target} status after the run: " + string.Join("; ", status.Members.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Name} reads={m.Reads} writes={m.Writes} restarts={m.Restarts} longest wait for the disk={(m.PersistMaxMs is { } ms ? $"{ms:F1} ms" : "not reported (swtpm)")}"))) + $"; failovers={status.Failovers}");
            }
        }

        return 0;
    }

    /// <summary>One cell: <paramref name="clients"/> threads for 1 s warm-up + <paramref name="seconds"/> measured.</summary>
    private static (double Rate, List<double> Micros, double CpuMicros, string? Failure) RunCell(VtpmServerProcess server, VtpmMix mix, int clients, int seconds)
    {
        var workers = new VtpmLoadClient[clients];
        var threads = new Thread[clients];
        // Not disposed: a client still blocked after the bounded join below may cancel it later.
        var abort = new CancellationTokenSource();
        long start = Stopwatch.GetTimestamp();
        long measureFrom = start + (long)(WarmUpSeconds * Stopwatch.Frequency);
        long end = measureFrom + (seconds * Stopwatch.Frequency);
        for (int c = 0; c < clients; c++)
        {
            VtpmLoadClient worker = workers[c] = new VtpmLoadClient(server.Port, mix, c, PerCommandConnection(server, clients));
            threads[c] = new Thread(() =>
            {
                worker.Run(measureFrom, end, abort.Token);
                if (worker.Failure is not null)
                {
                    abort.Cancel();
                }
            }) { IsBackground = true, Name = $"vtpm-load-{c}" };
            threads[c].Start();
        }

        // The server's CPU over the measured window only (warm-up excluded), per measured command.
        SleepUntil(measureFrom);
        double cpuFrom = server.CpuSeconds();
        SleepUntil(end);
        double cpuTo = server.CpuSeconds();

        // Bounded: a client stuck in a blocking receive past the end plus 30 s means a server that stopped answering.
        TimeSpan limit = TimeSpan.FromSeconds(WarmUpSeconds + seconds + 30);
        foreach (Thread thread in threads)
        {
            if (!thread.Join(limit))
            {
                abort.Cancel();
                return (0, [], 0, $"a client did not finish within {limit.TotalSeconds} s (server stopped answering?)");
            }
        }

        var micros = new List<double>();
        foreach (VtpmLoadClient worker in workers)
        {
            if (worker.Failure is not null)
            {
                return (0, [], 0, worker.Failure);
            }

            foreach (long ticks in worker.Latencies)
            {
                micros.Add(ticks * 1e6 / Stopwatch.Frequency);
            }
        }

        return (micros.Count / (double)seconds, micros, micros.Count == 0 ? 0 : (cpuTo - cpuFrom) * 1e6 / micros.Count, null);
    }

    private static void SleepUntil(long timestamp)
    {
        long remaining = timestamp - Stopwatch.GetTimestamp();
        if (remaining > 0)
        {
            Thread.Sleep(TimeSpan.FromSeconds(remaining / (double)Stopwatch.Frequency));
        }
    }

    /// <summary>swtpm serves one connection at a time: concurrent persistent clients would queue behind the first.</summary>
    private static bool PerCommandConnection(VtpmServerProcess server, int clients) => server.Target == "swtpm" && clients > 1;

    private static string Driven(VtpmServerProcess server, int clients) => PerCommandConnection(server, clients)
        ? "new connection per command, served one after another"
        : clients == 1 ? "one persistent connection" : "persistent connection per client";

    private static void PrintTable(List<VtpmServerProcess> servers, VtpmMix[] mixes, int[] clientCounts, int rounds, int seconds, Dictionary<(string, int, string), List<double>> rates, Dictionary<(string, int, string), List<double>> latencies, Dictionary<(string, int, string), List<double>> cpu)
    {
        Console.WriteLine();
        Console.WriteLine($"median of {rounds} round(s), {seconds} s measured after {WarmUpSeconds:F0} s warm-up each; latency percentiles over all rounds");
        Console.WriteLine("| mix | clients | target | driven as | commands/s | p50 µs | p99 µs | server CPU µs/command | pair / single | pair / swtpm |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (VtpmMix mix in mixes)
        {
            foreach (int clients in clientCounts.Where(c => c <= mix.MaxClients))
            {
                foreach (VtpmServerProcess server in servers)
                {
                    var key = (mix.Name, clients, server.Target);
                    double rate = Percentiles.Median(rates[key]);
                    List<double> micros = latencies[key];
                    string ratios = server.Target.StartsWith("pair", StringComparison.Ordinal)
                        ? $"{Ratio(rate, rates, (mix.Name, clients, "single"))} | {Ratio(rate, rates, (mix.Name, clients, "swtpm"))}"
                        : "— | —";
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {mix.Name} ({mix.ReadShare():P0} reads) | {clients} | {server.Target} | {Driven(server, clients)} | {rate:F0} | {Percentiles.Rank(micros, 0.5):F0} | {Percentiles.Rank(micros, 0.99):F0} | {Percentiles.Median(cpu[key]):F1} | {ratios} |"));
                }
            }
        }
    }

    private static string Ratio(double rate, Dictionary<(string, int, string), List<double>> rates, (string, int, string) anchor) =>
        rates.TryGetValue(anchor, out List<double>? anchorRates) ? (rate / Percentiles.Median(anchorRates)).ToString("F2", CultureInfo.InvariantCulture) : "—";
}
