using System.CommandLine;
using System.Runtime.InteropServices;
using FastPath.Vtpm;
using FastPath.Vtpm.Pair;
using FastPath.Vtpm.Protocol;

namespace FastPath.Cli.Commands;

/// <summary><c>fastpath vtpm serve|status|failover</c>.</summary>
internal static class VtpmCommand
{
    public static Command Create()
    {
        var socket = new Option<string>("--socket") { Description = "Command channel Unix socket (0600; control channel at SOCKET.ctrl); default STATE/vtpm.sock. TPM2TOOLS_TCTI=swtpm:path=SOCKET" };
        var port = new Option<int?>("--port") { Description = "Instead of the Unix sockets: TCP on 127.0.0.1, commands on PORT, control on PORT+1 (any local user can connect)" };
        var allowTcpState = new Option<bool>("--allow-tcp-state-commands") { Description = "With --port: serve CMD_SHUTDOWN, GET_STATEBLOB and SET_STATEBLOB on the TCP control port (refused there by default)" };
        var state = new Option<DirectoryInfo>("--state") { Description = "State directory", Required = true };
        var single = new Option<bool>("--single") { Description = "Run one instance instead of the high-availability pair" };
        var serve = new Command("serve", "Serve the vTPM high-availability pair (or one instance with --single) behind the swtpm socket protocol on a 0600 Unix socket (or loopback TCP with --port)") { socket, port, allowTcpState, state, single };

        // Through the daemon's control socket (the pair `fastpath run` serves), or straight to a `vtpm serve` pair's status socket.
        var statusState = new Option<DirectoryInfo>("--state") { Description = "A 'vtpm serve' pair's state directory (asks its status socket STATE/status.sock); without it, the daemon's pair" };
        var statusControl = new Option<string>("--control") { Description = "Control endpoint of the daemon: unix:PATH or tcp:127.0.0.1:PORT ($FASTPATH_CONTROL)" };
        var json = new Option<bool>("--json") { Description = "Print the raw JSON status" };
        var status = new Command("status", "Show the pair's roles, lag, loads, failovers, last resync") { statusState, statusControl, json };
        status.SetAction(parse => Status(parse.GetValue(statusState), parse.GetValue(statusControl), "status", parse.GetValue(json)));

        var failoverState = new Option<DirectoryInfo>("--state") { Description = "A 'vtpm serve' pair's state directory (asks its status socket STATE/status.sock); without it, the daemon's pair" };
        var failoverControl = new Option<string>("--control") { Description = "Control endpoint of the daemon: unix:PATH or tcp:127.0.0.1:PORT ($FASTPATH_CONTROL)" };
        var failover = new Command("failover", "Force a switch: drop the current master; it restarts, resyncs and rejoins") { failoverState, failoverControl };
        failover.SetAction(parse => Status(parse.GetValue(failoverState), parse.GetValue(failoverControl), "failover", true));

        var instanceState = new Option<DirectoryInfo>("--state") { Description = "State directory of this instance", Required = true };
        var instanceSocket = new Option<string>("--socket") { Description = "Unix socket the controller connects to", Required = true };
        var instanceControl = new Option<string>("--ctrl") { Description = "Unix socket of the swtpm control channel (state blobs, locality, init)", Required = true };
        var instanceParent = new Option<int>("--parent") { Description = "PID of the controller; the instance ends when it is not its parent (any more)" };
        var instance = new Command("instance", "One instance of the pair (started by 'vtpm serve'; speaks the controller's protocol)") { instanceState, instanceSocket, instanceControl, instanceParent };
        instance.Hidden = true;
        instance.SetAction(parse => Instance(parse.GetRequiredValue(instanceState), parse.GetRequiredValue(instanceSocket), parse.GetRequiredValue(instanceControl), parse.GetValue(instanceParent)));

        var timeout = new Option<int>("--timeout-ms") { Description = "An instance that does not answer within this is treated as hung (pair only)", DefaultValueFactory = _ => VtpmHostOptions.DefaultTimeoutMs };
        var durability = new Option<string>("--durability")
        {
            Description = "pair: acknowledge once both instances applied a change, each writes it to disk at once; sync: acknowledge once both have it on disk (pair only)",
            DefaultValueFactory = _ => PairDurabilityNames.Name(PairDurability.Pair),
        };
        durability.AcceptOnlyFromAmong(PairDurabilityNames.All);
        var instances = new Option<string>("--instances")
        {
            Description = "fastpath: two 'fastpath vtpm instance' processes (libtpms embedded); swtpm: two swtpm processes (pair only)",
            DefaultValueFactory = _ => "fastpath",
        };
        instances.AcceptOnlyFromAmong("fastpath", "swtpm");
        serve.Options.Add(timeout);
        serve.Options.Add(durability);
        serve.Options.Add(instances);
        serve.SetAction(parse => Serve(
            Endpoint(parse.GetValue(socket), parse.GetValue(port), parse.GetValue(allowTcpState), parse.GetRequiredValue(state)),
            parse.GetRequiredValue(state),
            parse.GetValue(single),
            parse.GetValue(timeout),
            PairDurabilityNames.Parse(parse.GetValue(durability) ?? "") ?? PairDurability.Pair,
            parse.GetValue(instances) ?? "fastpath"));

        return new Command("vtpm", "The virtual TPM and its high-availability pair") { serve, status, failover, instance };
    }

    /// <summary>Where <c>vtpm serve</c> listens: the Unix sockets by default, TCP on 127.0.0.1 with --port.</summary>
    private static VtpmEndpoint Endpoint(string? socket, int? port, bool allowTcpState, DirectoryInfo state)
    {
        if (port is int tcp)
        {
            if (socket is not null)
            {
                throw new UsageException("give --socket (a Unix socket, the default) or --port (TCP on 127.0.0.1), not both");
            }

            if (tcp is <= 0 or >= 65535)
            {
                throw new UsageException($"--port {tcp}: must be 1..65534 (the control channel uses port + 1)");
            }

            return VtpmEndpoint.Tcp(tcp, allowTcpState);
        }

        if (allowTcpState)
        {
            throw new UsageException("--allow-tcp-state-commands applies to --port only (the Unix sockets always serve them, to their owner)");
        }

        return VtpmEndpoint.Unix(socket ?? Path.Combine(state.FullName, FastPath.Control.Config.VtpmConfig.DefaultSocketName));
    }

    /// <summary>Runs one vTPM (single or pair, started by <see cref="VtpmHost"/> as the daemon's is) until
    /// SIGINT/SIGTERM or the control channel's CMD_SHUTDOWN.</summary>
    private static int Serve(VtpmEndpoint endpoint, DirectoryInfo stateDirectory, bool single, int timeoutMilliseconds, PairDurability durability, string instances)
    {
        if (single && instances != "fastpath")
        {
            throw new UsageException("--instances applies to the pair only (not with --single)");
        }

        if (!single && timeoutMilliseconds <= 0)
        {
            throw new UsageException($"--timeout-ms {timeoutMilliseconds}: must be positive");
        }

        TimeSpan timeout = TimeSpan.FromMilliseconds(Math.Max(1, timeoutMilliseconds));
        Func<string, string, PairInstance>? createInstance = null;
        if (!single && instances == "swtpm")
        {
            string swtpm = SwtpmInstance.Locate() ?? throw new UsageException("--instances swtpm: the swtpm binary is not installed (not on PATH nor at /usr/bin/swtpm; Debian: apt-get install swtpm)");
            createInstance = (name, directory) => new SwtpmInstance(name, directory, swtpm, timeout);
        }

        var options = new VtpmHostOptions(stateDirectory.FullName, endpoint)
        {
            Single = single,
            Durability = durability,
            Timeout = timeout,
            Instances = createInstance,
            InstancesName = instances,
        };
        Directory.CreateDirectory(stateDirectory.FullName);
        if (VtpmHost.ListenProblem(options) is string problem)
        {
            throw new UsageException(problem);
        }

        VtpmHost host;
        try
        {
            host = VtpmHost.Start(options);
        }
        catch (InvalidDataException exception)
        {
            // State on disk the engine refuses: one line naming the file, never a silent reset.
            throw new UsageException($"vtpm serve: {exception.Message}");
        }

        using VtpmHost owned = host;
        Console.Error.WriteLine($"fastpath: {host.Description}");
        WaitForStop(host.ShutdownRequested);
        return ExitCodes.Success;
    }

    /// <summary>One pair instance until SIGTERM/SIGINT (the controller kills it with SIGKILL when it fails).</summary>
    private static int Instance(DirectoryInfo stateDirectory, string socket, string control, int parent)
    {
        Directory.CreateDirectory(stateDirectory.FullName);
        InstanceServer instance;
        try
        {
            instance = new InstanceServer(stateDirectory.FullName, socket, control);
        }
        catch (InvalidDataException exception)
        {
            throw new UsageException($"vtpm instance: {exception.Message}");
        }

        using InstanceServer owned = instance;
        Task run = instance.RunAsync();
        Task orphaned = ParentGone(parent > 0 ? parent : ParentProcessId());
        WaitForStop(Task.WhenAny(run, orphaned));
        if (orphaned.IsCompleted)
        {
            // Every acknowledged change is already on disk: ending like kill -9 is safe, and it cannot be held
            // up by connections or a stderr pipe that the dead controller's reader no longer drains.
            Console.Error.WriteLine($"fastpath: vtpm instance {stateDirectory.FullName}: controller gone, exiting");
            System.Diagnostics.Process.GetCurrentProcess().Kill();
        }

        return ExitCodes.Success;
    }

    /// <summary>Completes when the controller that started this instance is gone (its parent changed): an
    /// orphaned instance would otherwise keep the state directory and socket of its successor.</summary>
    private static async Task ParentGone(int parent)
    {
        // Compared with the PID the controller passed: a controller killed while starting this instance has
        // already handed it to init before it could read its parent.
        while (ParentProcessId() == parent)
        {
            await Task.Delay(200).ConfigureAwait(false);
        }
    }

    /// <summary>Field 4 of /proc/self/stat (after the parenthesised command name, which may contain spaces).</summary>
    private static int ParentProcessId()
    {
        string stat = File.ReadAllText("/proc/self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void WaitForStop(Task other)
    {
        var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.TrySetResult();
        });
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            stop.TrySetResult();
        });
        Task.WaitAny(stop.Task, other);
    }

    /// <summary>Asks the pair for its status or a failover — the daemon's pair through its control socket, or a
    /// <c>vtpm serve</c> pair through its status socket (STATE/status.sock) — and prints the answer.</summary>
    private static int Status(DirectoryInfo? state, string? control, string request, bool json)
    {
        if (state is null)
        {
            string? fromDaemon = FromDaemon(control, request);
            return fromDaemon is null ? ExitCodes.Failure : Print(fromDaemon, request, json);
        }

        if (control is not null)
        {
            throw new UsageException("give --state (a 'vtpm serve' pair) or --control (the daemon's pair), not both");
        }

        string path = Path.Combine(state.FullName, PairController.StatusSocketName);
        string answer;
        try
        {
            using var client = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            client.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
            using var stream = new System.Net.Sockets.NetworkStream(client, ownsSocket: false);
            using var writer = new StreamWriter(stream) { AutoFlush = true, NewLine = "\n" };
            using var reader = new StreamReader(stream);
            writer.WriteLine(request);
            answer = reader.ReadLine() ?? throw new IOException("the pair closed the status connection");
        }
        catch (System.Net.Sockets.SocketException exception)
        {
            Console.Error.WriteLine($"fastpath: vtpm {request}: no pair status socket at {path}: {exception.Message}");
            return ExitCodes.Failure;
        }

        return Print(answer, request, json);
    }

    /// <summary>The daemon's answer to <c>vtpm.status</c> or <c>vtpm.failover</c> (what the status endpoint would give),
    /// or null after printing why the daemon refused (no pair, nothing to switch).</summary>
    private static string? FromDaemon(string? control, string request)
    {
        using FastPath.Control.ControlSocket.ControlClient client = ControlConnection.Open(control);
        try
        {
            using System.Text.Json.JsonDocument reply = MapCommand.Call(client, "vtpm." + request, null);
            return reply.RootElement.GetProperty("result").GetRawText();
        }
        catch (FastPath.Control.ControlSocket.ControlException error) when (error.Code == FastPath.Control.ControlSocket.ControlProtocol.Refused)
        {
            Console.Error.WriteLine($"fastpath: vtpm {request}: {error.Message}");
            return null;
        }
    }

    private static int Print(string answer, string request, bool json)
    {
        using System.Text.Json.JsonDocument document = System.Text.Json.JsonDocument.Parse(answer);
        if (document.RootElement.TryGetProperty("error", out System.Text.Json.JsonElement error))
        {
            Console.Error.WriteLine($"fastpath: vtpm {request}: {error.GetString()}");
            return ExitCodes.Failure;
        }

        if (json)
        {
            Console.WriteLine(answer);
            return ExitCodes.Success;
        }

        System.Text.Json.JsonElement root = document.RootElement;
        Console.WriteLine($"failovers {root.GetProperty("failovers")}  resyncs {root.GetProperty("resyncs")}  lag {root.GetProperty("lag")}  last resync {root.GetProperty("last_resync")} ({root.GetProperty("last_resync_ms")} ms)");
        Console.WriteLine($"durability {root.GetProperty("durability").GetString()}");
        Console.WriteLine("instance  kind      role    pid      outstanding  service-us  reads      writes     divergences  restarts  persist-ms last/max");
        foreach (System.Text.Json.JsonElement m in root.GetProperty("members").EnumerateArray())
        {
            System.Text.Json.JsonElement persist = m.GetProperty("persist");
            string lag = persist.ValueKind == System.Text.Json.JsonValueKind.Object ? $"{persist.GetProperty("last_ms")}/{persist.GetProperty("max_ms")}" : "-";
            Console.WriteLine($"{m.GetProperty("name").GetString(),-9} {m.GetProperty("kind").GetString(),-9} {m.GetProperty("role").GetString(),-7} {m.GetProperty("pid"),-8} {m.GetProperty("outstanding"),-12} {m.GetProperty("service_micros"),-11} {m.GetProperty("reads"),-10} {m.GetProperty("writes"),-10} {m.GetProperty("divergences"),-12} {m.GetProperty("restarts"),-9} {lag}");
        }

        return ExitCodes.Success;
    }
}
