using System.Collections.Concurrent;
using System.Diagnostics;
using FastPath.Harness;

namespace FastPath.Bench.Vtpm;

/// <summary>One TPM server under measurement, started as a child process on a free loopback port triple with
/// its own temporary state directory: <c>pair</c> (<c>fastpath vtpm serve</c>, controller + two instances),
/// <c>pair-sync</c> (the same with <c>--durability sync</c>), <c>single</c> (<c>--single</c>) or <c>swtpm</c>.
/// Dispose sends SIGTERM to the PID it started, then SIGKILL to that PID if it is still there after 10 s, and
/// removes the state directory.</summary>
/// <remarks>Not thread-safe for start and Dispose; <see cref="Port"/> and <see cref="Stderr"/> may be read from any thread.</remarks>
internal sealed class VtpmServerProcess : IDisposable
{
    /// <summary>The targets in the order the harness interleaves them.</summary>
    public static readonly string[] Targets = ["pair", "pair-sync", "pair-swtpm", "single", "swtpm"];

    private const int StderrKeepLines = 200;
    private static readonly Lazy<bool> s_durabilityOption = new(() => ServeHelp().Contains("--durability", StringComparison.Ordinal));
    private static readonly Lazy<bool> s_instancesOption = new(() => ServeHelp().Contains("--instances", StringComparison.Ordinal));

    private readonly Process _process;
    private readonly string _stateDirectory;
    private readonly ConcurrentQueue<string> _stderr = new();

    private VtpmServerProcess(string target, string file, IReadOnlyList<string> arguments, int port, string stateDirectory)
    {
        Target = target;
        Port = port;
        _stateDirectory = stateDirectory;
        CommandLine = file + " " + string.Join(' ', arguments);
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        _process.ErrorDataReceived += (_, e) => KeepStderr(e.Data);
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();

        // A benchmark that fails ends BenchmarkDotNet's child process without GlobalCleanup: the server this process
        // started must not outlive it (it would hold its port and state directory). Only this PID is signalled.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillIfRunning();
    }

    private void KillIfRunning()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Disposed: Dispose already stopped it.
        }
    }

    public string Target { get; }

    /// <summary>The command port P (control P+1; TCP opt-in, as the benchmarks compare with swtpm on TCP).</summary>
    public int Port { get; }

    /// <summary>The state directory (a pair's status socket is STATE/status.sock).</summary>
    public string StateDirectory => _stateDirectory;

    public string CommandLine { get; }

    public int ProcessId => _process.Id;

    /// <summary>The last 200 lines the server wrote to stderr, for error messages.</summary>
    public string Stderr => string.Join('\n', _stderr);

    /// <summary>Whether this build's <c>fastpath vtpm serve --help</c> lists <c>--durability</c>.</summary>
    public static bool HasDurabilityOption => s_durabilityOption.Value;

    /// <summary>Whether this build's <c>fastpath vtpm serve --help</c> lists <c>--instances</c>.</summary>
    public static bool HasInstancesOption => s_instancesOption.Value;

    /// <summary>Why <paramref name="target"/> cannot run with this build, or null when it can.</summary>
    public static string? Unsupported(string target) => target switch
    {
        "pair" or "single" or "swtpm" => null,
        "pair-sync" => HasDurabilityOption ? null : "this build's 'fastpath vtpm serve' has no --durability option",
        "pair-swtpm" => HasInstancesOption ? null : "this build's 'fastpath vtpm serve' has no --instances option",
        _ => $"unknown target '{target}' (known: {string.Join(", ", Targets)})",
    };

    /// <summary>Starts <paramref name="target"/> and waits (bounded) until it accepts commands.</summary>
    /// <param name="durability">For the pair targets: the <c>--durability</c> value to pass; null picks
    /// <c>pair</c> for "pair" and <c>sync</c> for "pair-sync", passed only where the build has the option.</param>
    public static VtpmServerProcess Start(string target, string? durability = null)
    {
        if (Unsupported(target) is { } reason)
        {
            throw new NotSupportedException($"{target}: {reason}");
        }

        string state = Directory.CreateTempSubdirectory("fastpath-vtpm-bench-").FullName;
        int port = FreePorts.Triple();
        string p = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        List<string> arguments = target == "swtpm"
            ? ["socket", "--tpm2", "--server", $"type=tcp,port={p},bindaddr=127.0.0.1", "--ctrl", $"type=tcp,port={port + 1},bindaddr=127.0.0.1", "--tpmstate", $"dir={state}", "--flags", "not-need-init"]
            : ["vtpm", "serve", "--port", p, "--state", state];
        if (target == "single")
        {
            arguments.Add("--single");
        }
        else if (target.StartsWith("pair", StringComparison.Ordinal))
        {
            durability ??= target == "pair-sync" ? "sync" : "pair";
            if (target == "pair-swtpm")
            {
                // The same controller with two libtpms instances: the like-for-like comparison with one swtpm.
                arguments.AddRange(["--instances", "swtpm"]);
            }

            if (HasDurabilityOption)
            {
                arguments.AddRange(["--durability", durability]);
            }
            else if (durability != "pair")
            {
                Directory.Delete(state, recursive: true);
                throw new NotSupportedException($"--durability {durability}: this build's 'fastpath vtpm serve' has no --durability option");
            }
        }

        var server = new VtpmServerProcess(target, target == "swtpm" ? "swtpm" : Fastpath(), arguments, port, state);
        try
        {
            FreePorts.WaitForListener(port, TimeSpan.FromSeconds(60), server.Diagnostics);
            FreePorts.WaitForListener(port + 1, TimeSpan.FromSeconds(30), server.Diagnostics);
        }
        catch (TimeoutException)
        {
            server.Dispose();
            throw;
        }

        return server;
    }

    /// <summary>TPM2_Startup(CLEAR), a 32-byte NV index (<see cref="TpmWire.NvIndex"/>) defined and written once:
    /// the state every load and failover run starts from.</summary>
    public void Initialize()
    {
        byte[] response = new byte[TpmWire.ResponseBufferSize];
        using var socket = TpmWire.Connect(Port);
        TpmWire.Expect(TpmWire.RoundTrip(socket, TpmWire.StartupClear(), response), "TPM2_Startup(CLEAR)", Target);
        TpmWire.Expect(TpmWire.RoundTrip(socket, TpmWire.NvDefine(TpmWire.NvSize), response), "TPM2_NV_DefineSpace", Target);
        uint written = TpmWire.RoundTrip(socket, TpmWire.NvWrite(new byte[TpmWire.NvSize]), response);

        // libtpms (swtpm too) answers the first write of a new index TPM_RC_RETRY; a TSS sends it again.
        TpmWire.Expect(written == TpmWire.Retry ? TpmWire.RoundTrip(socket, TpmWire.NvWrite(new byte[TpmWire.NvSize]), response) : written, "TPM2_NV_Write", Target);
    }

    /// <summary>CPU time (user + system, seconds) of the server and every process below it (the pair's
    /// instances), from /proc: what one command costs the machine, which a shared machine's noise hides less
    /// than wall time.</summary>
    public double CpuSeconds() => TreeCpuTicks(_process.Id) / (double)ClockTicksPerSecond;

    /// <summary>USER_HZ: /proc reports CPU times in these ticks (100 on Linux x86-64).</summary>
    private const int ClockTicksPerSecond = 100;

    private static long TreeCpuTicks(int pid)
    {
        long ticks = 0;
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
            foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                foreach (string child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    ticks += TreeCpuTicks(int.Parse(child, System.Globalization.CultureInfo.InvariantCulture));
                }
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // The process (or a thread) ended while it was read: it adds nothing more.
        }

        return ticks;
    }

    public string Diagnostics() => $"{Target} ({CommandLine}) exited={_process.HasExited} stderr={Stderr}";

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            // SIGTERM first: the pair's controller stops its own instances; swtpm exits on it too.
            using (Process term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            {
                term.WaitForExit(TimeSpan.FromSeconds(10));
            }

            if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                _process.Kill();
                _process.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }

        _process.Dispose();
        if (Directory.Exists(_stateDirectory))
        {
            Directory.Delete(_stateDirectory, recursive: true);
        }
    }

    /// <summary>control/FastPath.Cli/bin/Release/net10.0/fastpath of the checkout this benchmark runs from.</summary>
    public static string Fastpath()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FastPath.sln")))
            {
                string path = Path.Combine(dir.FullName, "control", "FastPath.Cli", "bin", "Release", "net10.0", "fastpath");
                return File.Exists(path) ? path : throw new FileNotFoundException($"build the CLI in Release first (dotnet build -c Release control/FastPath.Cli): {path} is missing");
            }
        }

        throw new InvalidOperationException("FastPath.sln not found above " + AppContext.BaseDirectory);
    }

    private static string ServeHelp()
    {
        var start = new ProcessStartInfo(Fastpath()) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in (string[])["vtpm", "serve", "--help"])
        {
            start.ArgumentList.Add(argument);
        }

        using Process help = Process.Start(start) ?? throw new InvalidOperationException("could not start fastpath vtpm serve --help");
        Task<string> error = help.StandardError.ReadToEndAsync();
        string output = help.StandardOutput.ReadToEnd();
        if (!help.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            help.Kill();
            throw new TimeoutException("fastpath vtpm serve --help did not finish within 30 s");
        }

        return output + error.Result;
    }

    /// <summary>Runs on the process's stderr reader thread only: one line in, at most one out.</summary>
    private void KeepStderr(string? line)
    {
        if (line is null)
        {
            return;
        }

        _stderr.Enqueue(line);
        if (_stderr.Count > StderrKeepLines)
        {
            _stderr.TryDequeue(out _);
        }
    }
}
