using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using FastPath.Testing;

namespace FastPath.Vtpm.Tests.Infrastructure;

/// <summary>The real <c>fastpath vtpm serve</c> pair (controller + two instance processes) on a free loopback
/// port pair (TCP opt-in: commands P, control P+1), with its status socket (STATE/status.sock). Dispose kills the controller (by its PID), which kills its
/// instances; instance PIDs come from the status endpoint, i.e. children of the process this test started.</summary>
/// <remarks>Not thread-safe for Dispose; <see cref="Request"/> may be called from several threads.</remarks>
internal sealed class PairProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();

    public PairProcess(string stateDirectory, int timeoutMilliseconds = 1000, bool testHooks = false, string durability = "pair", string instances = "fastpath")
    {
        StateDirectory = stateDirectory;
        Port = FreePorts.Pair();
        var start = new ProcessStartInfo(TpmServerProcess.FastpathExecutable) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in (string[])["vtpm", "serve", "--port", Port.ToString(), "--state", stateDirectory, "--timeout-ms", timeoutMilliseconds.ToString(), "--durability", durability, "--instances", instances])
        {
            start.ArgumentList.Add(argument);
        }

        if (testHooks)
        {
            start.Environment["FASTPATH_VTPM_TEST_HOOKS"] = "1";
        }

        _process = Process.Start(start)!;
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (_stderr)
            {
                _stderr.AppendLine(e.Data);
            }
        };
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        try
        {
            WaitForStatusSocket(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            Dispose();
            throw;
        }
    }

    public int Port { get; }

    /// <summary>The pair's status socket (0600, in its state directory).</summary>
    public string StatusSocket => Path.Combine(StateDirectory, "status.sock");

    private void WaitForStatusSocket(TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                probe.Connect(new UnixDomainSocketEndPoint(StatusSocket));
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                Thread.Sleep(50);
            }
            catch (SocketException)
            {
                throw new TimeoutException($"no status socket at {StatusSocket}: pair exited={_process.HasExited} stderr={Stderr}");
            }
        }
    }

    public string StateDirectory { get; }

    public int ProcessId => _process.Id;

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Whether the controller's stderr shows <paramref name="text"/> within 10 s: log lines arrive
    /// through an asynchronously read pipe, after the event that wrote them.</summary>
    public bool StderrShows(string text)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (!Stderr.Contains(text, StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            Thread.Sleep(20);
        }

        return true;
    }

    /// <summary>One line to the status endpoint, its JSON answer.</summary>
    public JsonElement Request(string line)
    {
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        client.Connect(new UnixDomainSocketEndPoint(StatusSocket));
        using var stream = new NetworkStream(client, ownsSocket: false);
        stream.ReadTimeout = 30_000;
        using var writer = new StreamWriter(stream) { AutoFlush = true, NewLine = "\n" };
        using var reader = new StreamReader(stream);
        writer.WriteLine(line);
        string answer = reader.ReadLine() ?? throw new IOException("status endpoint closed the connection");
        return JsonDocument.Parse(answer).RootElement.Clone();
    }

    public JsonElement Status() => Request("status");

    public JsonElement Member(string role)
    {
        foreach (JsonElement member in Status().GetProperty("members").EnumerateArray())
        {
            if (member.GetProperty("role").GetString() == role)
            {
                return member;
            }
        }

        throw new InvalidOperationException($"no member with role {role}: {Status()}");
    }

    /// <summary>Waits until both instances are live (in lockstep); a bounded wait that names the state on timeout.</summary>
    public void WaitBothLive(TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (Status().GetProperty("members").EnumerateArray().All(m => m.GetProperty("role").GetString() != "down"))
            {
                return;
            }

            Thread.Sleep(20);
        }

        throw new TimeoutException($"the pair did not get both instances live: {Status()} stderr={Stderr}");
    }

    /// <summary>Both instances' state digests (hex), after waiting for lockstep.</summary>
    public (string A, string B) Digests()
    {
        WaitBothLive();
        JsonElement digests = Request("digests");
        return (digests.GetProperty("a").GetString()!, digests.GetProperty("b").GetString()!);
    }

    /// <summary>SIGKILL of the controller and both instances, back to back (the instance PIDs come from the
    /// status endpoint, so they are children of the process this test started).</summary>
    public void Kill9Everything()
    {
        int[] instances = [.. Status().GetProperty("members").EnumerateArray().Select(m => m.GetProperty("pid").GetInt32())];
        var victims = new List<Process>();
        foreach (int pid in instances)
        {
            try
            {
                victims.Add(Process.GetProcessById(pid));
            }
            catch (ArgumentException)
            {
                // Already gone.
            }
        }

        _process.Kill();
        foreach (Process victim in victims)
        {
            try
            {
                victim.Kill();
            }
            catch (InvalidOperationException)
            {
                // Exited between the lookup and the kill.
            }
        }

        _process.WaitForExit(TimeSpan.FromSeconds(10));
        foreach (Process victim in victims)
        {
            victim.WaitForExit(10_000);
            victim.Dispose();
        }
    }

    /// <summary>SIGKILL of the controller only. The wait is bounded and does not wait for the end of the
    /// redirected stderr, which the instances inherited and hold until they notice the controller is gone.</summary>
    public void Kill9()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            // SIGTERM: the controller disposes and kills its instances.
            Process.Start("kill", ["-TERM", _process.Id.ToString()])!.WaitForExit();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                _process.Kill();
            }
        }

        _process.Dispose();
    }
}
