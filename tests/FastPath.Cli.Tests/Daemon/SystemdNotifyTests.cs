using System.Globalization;
using FastPath.Testing;

namespace FastPath.Cli.Tests.Daemon;

/// <summary>
/// The daemon under a service manager (<c>Type=notify</c>): config → <c>fastpath run</c> with <c>NOTIFY_SOCKET</c> and
/// <c>WATCHDOG_USEC</c> pointing at a datagram socket this test owns → verify <c>READY=1</c>, <c>STATUS=</c> with
/// packets/s and mappings, <c>WATCHDOG=1</c> while the worker makes progress and none while it is wedged (blocked in
/// a real <c>write</c> to a FIFO nobody reads), and <c>STOPPING=1</c> on SIGTERM.
/// </summary>
[Collection(DaemonCollection.Name)]
public sealed class SystemdNotifyTests : IDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_daemon_notifies_ready_status_watchdog_and_stopping_on_an_abstract_socket()
    {
        using var notify = new NotifySocket("@fastpath-test-" + Guid.NewGuid().ToString("N"));
        string config = WriteConfig("""{ "type": "sink" }""", packets: 200_000);

        using var daemon = DaemonProcess.Start(config, "unix:" + _dir.File("control.sock"), Environment(notify));
        var seen = new List<string>();
        string ready = notify.WaitFor(m => m.Contains("READY=1", StringComparison.Ordinal), s_wait, seen);
        Assert.Equal(ready, seen[0]);
        Assert.Matches(@"^READY=1\nSTATUS=forwarding \d+ packets/s, 1 mapping\(s\)$", ready);

        notify.WaitFor(m => m.StartsWith("STATUS=forwarding ", StringComparison.Ordinal) && !m.StartsWith("STATUS=forwarding 0 ", StringComparison.Ordinal), s_wait, seen);
        for (int i = 0; i < 3; i++)
        {
            notify.WaitFor(m => m == "WATCHDOG=1", s_wait, seen);
        }

        Assert.Equal(0, daemon.Stop(s_wait));
        notify.WaitFor(m => m == "STOPPING=1\nSTATUS=draining and stopping", s_wait, seen);
        Assert.Single(seen, m => m.Contains("READY=1", StringComparison.Ordinal));
        Assert.All(seen, m => Assert.Matches(@"^(READY=1\n)?STATUS=forwarding \d+ packets/s, 1 mapping\(s\)$|^WATCHDOG=1$|^STOPPING=1\nSTATUS=draining and stopping$", m));
    }

    [Fact]
    public void A_worker_blocked_in_its_port_stops_the_watchdog_pings_until_it_moves_again()
    {
        using var notify = new NotifySocket(_dir.File("notify.sock"));
        string fifo = _dir.File("out.fifo");
        ProcessRunner.Run("mkfifo", fifo).EnsureSuccess();
        string config = WriteConfig("""{ "type": "pcap", "output": "out.fifo" }""", packets: 0);

        // The secure port writes every translated frame into the FIFO: while the test reads, the worker runs; once the
        // test stops reading, the pipe fills and the worker blocks in write(2) — wedged in a real syscall.
        using var reader = new FifoReader(fifo);
        using var daemon = DaemonProcess.Start(config, "unix:" + _dir.File("control.sock"), Environment(notify));
        notify.WaitFor(m => m.StartsWith("READY=1", StringComparison.Ordinal), s_wait);
        notify.WaitFor(m => m == "WATCHDOG=1", s_wait);
        notify.WaitFor(m => m == "WATCHDOG=1", s_wait);

        const string Withheld = "made no progress";
        int before = Count(daemon.Log, Withheld);
        reader.Pause();
        WaitUntil(() => Count(daemon.Log, Withheld) > before, "the daemon to notice the wedged worker", daemon);
        notify.Drain();
        Thread.Sleep(TimeSpan.FromSeconds(3)); // Six watchdog periods of 500 ms: a healthy worker pings six times here.
        Assert.DoesNotContain("WATCHDOG=1", notify.Drain());
        daemon.Cli("stats", "--json").EnsureSuccess(); // The control plane is alive: only the worker is stuck.

        reader.Resume();
        notify.WaitFor(m => m == "WATCHDOG=1", s_wait);
        Assert.Equal(0, daemon.Stop(s_wait));
        notify.WaitFor(m => m.StartsWith("STOPPING=1", StringComparison.Ordinal), s_wait);
    }

    private static Dictionary<string, string> Environment(NotifySocket notify) => new()
    {
        ["NOTIFY_SOCKET"] = notify.Address,
        ["WATCHDOG_USEC"] = "1000000",
    };

    private string WriteConfig(string securePort, long packets)
    {
        File.WriteAllText(_dir.File("maps.json"), """{ "mappings": [ { "tenant": 100, "user": "10.0.0.0", "secure": "11.0.0.0" } ] }""");
        string config = _dir.File("fastpath.json");
        File.WriteAllText(config, $$"""
            {
              "workers": 1,
              "maps": "maps.json",
              "ports": {
                "u0": { "type": "generator", "mappings": 1, "flows": 1, "packets": {{packets.ToString(CultureInfo.InvariantCulture)}} },
                "s0": {{securePort}}
              },
              "pairs": [ { "user": "u0", "secure": "s0" } ]
            }
            """);
        return config;
    }

    private static int Count(string text, string what)
    {
        int count = 0;
        for (int at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + 1, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static void WaitUntil(Func<bool> condition, string what, DaemonProcess daemon)
    {
        DateTime end = DateTime.UtcNow + s_wait;
        while (!condition())
        {
            if (DateTime.UtcNow > end)
            {
                throw new TimeoutException($"timed out waiting for {what}:\n{daemon.Log}");
            }

            Thread.Sleep(50);
        }
    }

    /// <summary>Reads a FIFO on its own thread (opening it unblocks the daemon's open for writing); can pause and resume.</summary>
    private sealed class FifoReader : IDisposable
    {
        private readonly ManualResetEventSlim _reading = new(initialState: true);
        private readonly Thread _thread;
        private readonly string _path;

        public FifoReader(string path)
        {
            _path = path;
            _thread = new Thread(Read) { IsBackground = true, Name = "fifo-reader" };
            _thread.Start();
        }

        public void Pause() => _reading.Reset();

        public void Resume() => _reading.Set();

        /// <summary>Reads on until the writer (the daemon, stopped by then) closes its end.</summary>
        public void Dispose()
        {
            _reading.Set();
            _thread.Join(TimeSpan.FromSeconds(30));
            _reading.Dispose();
        }

        private void Read()
        {
            using var stream = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            var buffer = new byte[65536];
            while (true)
            {
                _reading.Wait();
                if (stream.Read(buffer) == 0)
                {
                    return; // The daemon closed its end.
                }
            }
        }
    }
}
