using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using FastPath.Dataplane.Ports;
using FastPath.Vtpm.Pair;
using FastPath.Vtpm.Protocol;

namespace FastPath.Control.Config;

/// <summary>
/// Reads <c>fastpath.json</c> and checks all of it before anything starts: unknown fields, wrong types, bad MACs,
/// missing interfaces, unpaired ports, the maps file itself. Every error names the file and the JSON path of the
/// problem (<c>fastpath.json: ports.u0.peer: not a MAC address ('zz')</c>); a port whose name is itself invalid is
/// named by position (<c>ports[2]</c>).
/// </summary>
/// <remarks>Thread-safe: stateless.</remarks>
public static partial class ConfigLoader
{
    // idle_spin: an empty poll takes well under 10 µs, so a million of them is seconds of spinning: more is a typo.
    private const int MaxIdleSpin = 1_000_000;

    private static readonly string[] s_topFields = ["workers", "cores", "batch", "idle", "idle_spin", "maps", "control", "allow_remote_control", "metrics", "ports", "pairs", "vtpm"];
    private static readonly string[] s_pairFields = ["user", "secure", "guests"];
    private static readonly string[] s_vtpmFields = ["mode", "socket", "port", "allowTcpStateCommands", "state", "durability", "timeoutMs"];

    /// <summary>Reads and validates <paramref name="path"/>; <paramref name="controlOverride"/> replaces its <c>control</c>.</summary>
    /// <exception cref="InputFileException">Anything is wrong; the message says where.</exception>
    public static DaemonConfig Load(string path, string? controlOverride = null)
    {
        byte[] bytes;
        try
        {
            bytes = InputFile.ReadAllBytes(path, JsonInput.MaxConfigBytes);
        }
        catch (InvalidDataException error)
        {
            throw new InputFileException(error.Message);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new InputFileException($"{path}: cannot read ({error.Message})");
        }

        return Parse(bytes, path, controlOverride, checkHost: true);
    }

    /// <summary>
    /// Validates configuration JSON named <paramref name="source"/>. With <paramref name="checkHost"/> the host is
    /// consulted too: interfaces must exist and the maps file must load.
    /// </summary>
    public static DaemonConfig Parse(ReadOnlySpan<byte> json, string source, string? controlOverride = null, bool checkHost = true)
    {
        // Editors on some systems save UTF-8 with a byte-order mark, which the JSON reader does not skip.
        if (json.StartsWith("\uFEFF"u8))
        {
            json = json[3..];
        }

        if (JsonInput.FindInvalidUtf8(json) is string where)
        {
            throw new InputFileException($"{source}: {where}");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), JsonInput.DocumentOptions);
        }
        catch (JsonException error)
        {
            throw new InputFileException($"{source}: {JsonInput.Describe(error)}");
        }

        using (document)
        {
            return new Reader(source, checkHost).Root(document.RootElement, controlOverride);
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,32}$")]
    private static partial Regex PortName();

    /// <summary>Parses <c>aa:bb:cc:dd:ee:ff</c> (or with dashes); null if it is not a MAC address.</summary>
    public static byte[]? ParseMac(string? text)
    {
        if (text is null || text.Length != 17)
        {
            return null;
        }

        var mac = new byte[6];
        for (int i = 0; i < 6; i++)
        {
            if ((i < 5 && text[i * 3 + 2] is not (':' or '-'))
                || !byte.TryParse(text.AsSpan(i * 3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out mac[i]))
            {
                return null;
            }
        }

        return mac;
    }

    private sealed class Reader(string source, bool checkHost)
    {
        private readonly string _folder = Path.GetDirectoryName(Path.GetFullPath(source)) ?? "/";

        public DaemonConfig Root(JsonElement root, string? controlOverride)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Error("$", "expected an object");
            }

            if (JsonFields.FirstUnknown(root, s_topFields) is { } unknown)
            {
                throw Error(unknown, JsonFields.Reason(s_topFields));
            }

            IReadOnlyList<int> cores = Cores(root);
            int batch = root.TryGetProperty("batch", out JsonElement batchElement) ? Int(batchElement, "batch", 1, Dataplane.Pipeline.TranslationStage.MaxBatch) : Dataplane.Pipeline.PipelineBuilder.DefaultBatchSize;
            Dataplane.Pipeline.WorkerIdle idle = root.TryGetProperty("idle", out JsonElement idleElement) ? Idle(idleElement, "idle") : Dataplane.Pipeline.PipelineBuilder.DefaultIdle;
            int idleSpin = root.TryGetProperty("idle_spin", out JsonElement spinElement) ? Int(spinElement, "idle_spin", 0, MaxIdleSpin) : Dataplane.Pipeline.PipelineBuilder.DefaultSpinPolls;
            bool allowRemote = root.TryGetProperty("allow_remote_control", out JsonElement remote) && Bool(remote, "allow_remote_control");

            string controlText = controlOverride
                ?? (root.TryGetProperty("control", out JsonElement control) ? String(control, "control") : ControlEndpoint.Default);
            if (!ControlEndpoint.TryParse(controlText, allowRemote, out ControlEndpoint endpoint, out string controlError))
            {
                throw controlOverride is null ? Error("control", controlError) : new InputFileException($"--control: {controlError}");
            }

            IPEndPoint? metrics = null;
            if (root.TryGetProperty("metrics", out JsonElement metricsElement) && metricsElement.ValueKind != JsonValueKind.Null)
            {
                string text = String(metricsElement, "metrics");
                if (!IpAddressText.TryParseEndPoint(text, out metrics))
                {
                    throw Error("metrics", $"expected ADDRESS:PORT ('{text}')");
                }

                if (!IPAddress.IsLoopback(metrics.Address))
                {
                    throw Error("metrics", $"'{text}' is not a loopback address (metrics are served on loopback only)");
                }
            }

            string? maps = null;
            EtcdMapsConfig? mapsEtcd = null;
            if (root.TryGetProperty("maps", out JsonElement mapsElement) && mapsElement.ValueKind == JsonValueKind.Object)
            {
                // Fleet maps (README "Fleet"): {"etcd": {...}}; its own reader, in its own file.
                mapsEtcd = EtcdMapsConfig.Read(mapsElement, source, _folder);
            }
            else if (root.TryGetProperty("maps", out mapsElement) && mapsElement.ValueKind != JsonValueKind.Null)
            {
                maps = Resolve(String(mapsElement, "maps"));
                if (checkHost)
                {
                    if (!File.Exists(maps) && !Directory.Exists(maps))
                    {
                        throw Error("maps", $"no such file '{maps}'");
                    }

                    // The maps file is checked now too: a daemon must not start and then refuse its own table.
                    try
                    {
                        Maps.MapsFile.Load(maps);
                    }
                    catch (Exception error) when (error is IOException or UnauthorizedAccessException)
                    {
                        throw Error("maps", $"cannot read '{maps}' ({error.Message})");
                    }
                }
            }

            List<PortConfig> ports = Ports(root);
            List<PairConfig> pairs = Pairs(root, ports);
            CheckGeneratorFlows(ports, pairs, cores.Count);
            VtpmConfig? vtpm = root.TryGetProperty("vtpm", out JsonElement vtpmElement) && vtpmElement.ValueKind != JsonValueKind.Null ? Vtpm(vtpmElement) : null;

            // The control socket's path is the host's business too: never a file that is not a socket, never a new directory.
            if (checkHost && endpoint.UnixPath is string controlPath && UnixSocketPath.ListenProblem(controlPath) is string pathProblem)
            {
                throw controlOverride is null ? Error("control", pathProblem) : new InputFileException($"--control: {pathProblem}");
            }

            return new DaemonConfig
            {
                Source = source,
                Cores = cores,
                BatchSize = batch,
                Idle = idle,
                IdleSpinPolls = idleSpin,
                MapsFile = maps,
                MapsEtcd = mapsEtcd,
                Control = endpoint,
                AllowRemoteControl = allowRemote,
                Metrics = metrics,
                Ports = ports,
                Pairs = pairs,
                Vtpm = vtpm,
            };
        }

        private IReadOnlyList<int> Cores(JsonElement root)
        {
            bool hasWorkers = root.TryGetProperty("workers", out JsonElement workers);
            bool hasCores = root.TryGetProperty("cores", out JsonElement cores);
            if (hasWorkers && hasCores)
            {
                throw Error("cores", "give either \"workers\" (unpinned threads) or \"cores\" (one pinned worker per core), not both");
            }

            if (hasCores)
            {
                if (cores.ValueKind != JsonValueKind.Array || cores.GetArrayLength() == 0)
                {
                    throw Error("cores", "expected a non-empty array of CPU numbers");
                }

                int online = Environment.ProcessorCount;
                var list = new List<int>();
                int index = 0;
                foreach (JsonElement core in cores.EnumerateArray())
                {
                    string at = $"cores[{index++}]";
                    int cpu = Int(core, at, 0, 1023);
                    if (list.Contains(cpu))
                    {
                        throw Error(at, $"core {cpu} is listed twice (one worker per core)");
                    }

                    if (checkHost && Array.IndexOf(Dataplane.Pipeline.CorePinning.AllowedCpus(), cpu) < 0)
                    {
                        throw Error(at, $"core {cpu} is not available to this process ({online} CPUs allowed)");
                    }

                    list.Add(cpu);
                }

                return list;
            }

            int count = hasWorkers ? Int(workers, "workers", 1, Dataplane.Mapping.MappingEpoch.MaxReaders) : 1;
            return Enumerable.Repeat(-1, count).ToArray();
        }

        private List<PortConfig> Ports(JsonElement root)
        {
            if (!root.TryGetProperty("ports", out JsonElement ports))
            {
                throw Error("ports", "missing");
            }

            if (ports.ValueKind != JsonValueKind.Object)
            {
                throw Error("ports", "expected an object of ports by name");
            }

            var list = new List<PortConfig>();
            int index = 0;
            foreach (JsonProperty property in ports.EnumerateObject())
            {
                string at = PortName().IsMatch(property.Name) ? $"ports.{property.Name}" : $"ports[{index}]";
                if (at[5] == '[')
                {
                    throw Error(at, $"port name '{property.Name}' must be 1-32 letters, digits, '-' or '_'");
                }

                if (list.Exists(p => p.Name == property.Name))
                {
                    throw Error(at, "port name used twice");
                }

                list.Add(Port(property.Name, property.Value, at));
                index++;
            }

            // No ports is a daemon without a data path: the control socket, maps, metrics and the vTPM still run.
            return list;
        }

        private PortConfig Port(string name, JsonElement element, string at)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                throw Error(at, "expected an object");
            }

            if (!element.TryGetProperty("type", out JsonElement typeElement))
            {
                throw Error(at + ".type", "missing (afpacket, tap, pcap, generator, sink or guest)");
            }

            string type = String(typeElement, at + ".type");
            PortKind kind = type switch
            {
                "afpacket" => PortKind.AfPacket,
                "tap" => PortKind.Tap,
                "pcap" => PortKind.Pcap,
                "generator" => PortKind.Generator,
                "sink" => PortKind.Sink,
                "guest" => PortKind.Guest,
                _ => throw Error(at + ".type", $"unknown port type '{type}' (afpacket, tap, pcap, generator, sink or guest)"),
            };

            string[] allowed = kind switch
            {
                PortKind.AfPacket => ["type", "interface", "mac", "peer", "ring_blocks", "rx_ring", "mtu"],
                PortKind.Tap => ["type", "interface", "mac", "peer", "mtu"],
                PortKind.Pcap => ["type", "input", "output", "mac", "peer"],
                PortKind.Generator => ["type", "frame_size", "flows", "mappings", "packets", "mac", "peer"],
                PortKind.Guest => ["type", "socket", "tenant", "address", "max_frames"],
                _ => ["type", "mac", "peer"],
            };
            if (JsonFields.FirstUnknown(element, allowed) is { } unknown)
            {
                throw Error($"{at}.{unknown}", JsonFields.Reason(allowed, $" for a {type} port"));
            }

            string? iface = null;
            if (kind is PortKind.AfPacket or PortKind.Tap)
            {
                if (!element.TryGetProperty("interface", out JsonElement ifaceElement))
                {
                    throw Error(at + ".interface", "missing");
                }

                iface = String(ifaceElement, at + ".interface");
                if (iface.Length is 0 or > 15 || iface.Contains('/', StringComparison.Ordinal) || iface.Contains(' ', StringComparison.Ordinal))
                {
                    throw Error(at + ".interface", $"not an interface name ('{iface}')");
                }

                if (checkHost && kind == PortKind.AfPacket && !Directory.Exists("/sys/class/net/" + iface))
                {
                    throw Error(at + ".interface", $"no such interface '{iface}'");
                }
            }

            byte[]? mac = element.TryGetProperty("mac", out JsonElement macElement) ? Mac(macElement, at + ".mac") : null;
            byte[]? peer = element.TryGetProperty("peer", out JsonElement peerElement) ? Mac(peerElement, at + ".peer") : null;
            if (peer is null && kind is PortKind.AfPacket or PortKind.Tap)
            {
                throw Error(at + ".peer", "missing (the MAC translated frames are sent to)");
            }

            string? input = element.TryGetProperty("input", out JsonElement inputElement) ? Resolve(String(inputElement, at + ".input")) : null;
            string? output = element.TryGetProperty("output", out JsonElement outputElement) ? Resolve(String(outputElement, at + ".output")) : null;
            if (kind == PortKind.Pcap)
            {
                if (input is null && output is null)
                {
                    throw Error(at, "a pcap port needs \"input\", \"output\" or both");
                }

                if (checkHost && input is not null)
                {
                    try
                    {
                        InputFile.OpenRead(input, long.MaxValue, out _).Dispose();
                    }
                    catch (FileNotFoundException)
                    {
                        throw Error(at + ".input", $"no such file '{input}'");
                    }
                    catch (Exception error) when (error is InvalidDataException or IOException or UnauthorizedAccessException)
                    {
                        throw Error(at + ".input", error.Message);
                    }
                }
            }

            string? socket = null;
            int tenant = 0;
            IPAddress? address = null;
            if (kind == PortKind.Guest)
            {
                socket = element.TryGetProperty("socket", out JsonElement socketElement) ? Resolve(String(socketElement, at + ".socket")) : throw Error(at + ".socket", "missing (the Unix socket the guest connects to)");
                if (Dataplane.Pipeline.GuestPlan.CheckSocketPath(socket, checkHost) is string socketError)
                {
                    throw Error(at + ".socket", socketError);
                }

                tenant = element.TryGetProperty("tenant", out JsonElement tenantElement) ? Int(tenantElement, at + ".tenant", 0, Dataplane.Tenant.Max) : throw Error(at + ".tenant", $"missing (0 for untagged, 1-{Dataplane.Tenant.Max} for a VLAN ID)");
                string addressText = element.TryGetProperty("address", out JsonElement addressElement) ? String(addressElement, at + ".address") : throw Error(at + ".address", "missing (the guest's user-side address)");
                if (!Maps.MapEntryRules.TryParseAddress(addressText, out IPAddress parsed, out string why))
                {
                    throw Error(at + ".address", why);
                }

                address = parsed;
            }

            return new PortConfig
            {
                Name = name,
                Kind = kind,
                Interface = iface,
                Mac = mac,
                Peer = peer,
                RingBlocks = element.TryGetProperty("ring_blocks", out JsonElement blocks) ? Int(blocks, at + ".ring_blocks", 2, 16384) : null,
                RxRing = element.TryGetProperty("rx_ring", out JsonElement ring) ? RxRing(ring, at + ".rx_ring") : null,
                Mtu = element.TryGetProperty("mtu", out JsonElement mtu) ? Int(mtu, at + ".mtu", Dataplane.Ports.AfPacketOptions.MinMtu, Dataplane.Ports.AfPacketOptions.MaxMtu) : null,
                Input = input,
                Output = output,
                FrameSize = element.TryGetProperty("frame_size", out JsonElement size) ? Int(size, at + ".frame_size", 64, 1518) : PortConfig.DefaultFrameSize,
                Flows = element.TryGetProperty("flows", out JsonElement flows) ? Int(flows, at + ".flows", 1, 1 << 24) : PortConfig.DefaultFlows,
                Mappings = element.TryGetProperty("mappings", out JsonElement mappings) ? Int(mappings, at + ".mappings", 1, 1 << 24) : PortConfig.DefaultMappings,
                Packets = element.TryGetProperty("packets", out JsonElement packets) ? Long(packets, at + ".packets") : 0,
                Socket = socket,
                Tenant = tenant,
                Address = address,
                MaxFrames = element.TryGetProperty("max_frames", out JsonElement maxFrames) ? Int(maxFrames, at + ".max_frames", Dataplane.Guest.GuestLayout.MinHeldFrames, Dataplane.Guest.GuestLayout.MaxHeldFrames) : Dataplane.Pipeline.GuestPlan.DefaultMaxHeldFrames,
            };
        }

        private List<PairConfig> Pairs(JsonElement root, List<PortConfig> ports)
        {
            if (!root.TryGetProperty("pairs", out JsonElement pairs))
            {
                throw Error("pairs", "missing (each pair joins a user port to a secure port)");
            }

            if (pairs.ValueKind != JsonValueKind.Array)
            {
                throw Error("pairs", "expected an array of { \"user\": PORT, \"secure\": PORT }");
            }

            if (pairs.GetArrayLength() == 0 && ports.Count != 0)
            {
                throw Error("pairs", "empty, but there are ports: each pair joins a user port to a secure port");
            }

            var used = new Dictionary<string, string>();
            var list = new List<PairConfig>();
            int index = 0;
            foreach (JsonElement pair in pairs.EnumerateArray())
            {
                string at = $"pairs[{index++}]";
                if (pair.ValueKind != JsonValueKind.Object)
                {
                    throw Error(at, "expected { \"user\": PORT, \"secure\": PORT }");
                }

                if (JsonFields.FirstUnknown(pair, s_pairFields) is { } unknown)
                {
                    throw Error($"{at}.{unknown}", JsonFields.Reason(s_pairFields));
                }

                string user = PairPort(pair, at, "user", ports, used);
                string secure = PairPort(pair, at, "secure", ports, used);
                if (user == secure)
                {
                    throw Error(at, $"port '{user}' cannot be paired with itself");
                }

                list.Add(new PairConfig(user, secure, Guests(pair, at, ports, used)));
            }

            foreach (PortConfig port in ports)
            {
                if (!used.ContainsKey(port.Name))
                {
                    throw Error($"ports.{port.Name}", "not used by any pair");
                }
            }

            return list;
        }

        private List<string> Guests(JsonElement pair, string at, List<PortConfig> ports, Dictionary<string, string> used)
        {
            var guests = new List<string>();
            if (!pair.TryGetProperty("guests", out JsonElement element))
            {
                return guests;
            }

            if (element.ValueKind != JsonValueKind.Array)
            {
                throw Error($"{at}.guests", "expected an array of guest port names");
            }

            int index = 0;
            var addresses = new HashSet<(int, IPAddress)>();
            foreach (JsonElement item in element.EnumerateArray())
            {
                string where = $"{at}.guests[{index++}]";
                string name = String(item, where);
                PortConfig port = ports.Find(p => p.Name == name) ?? throw Error(where, $"no port named '{name}'");
                if (port.Kind != PortKind.Guest)
                {
                    throw Error(where, $"port '{name}' is not a guest port");
                }

                if (used.TryGetValue(name, out string? other))
                {
                    throw Error(where, $"port '{name}' is already used by {other}");
                }

                if (!addresses.Add((port.Tenant, port.Address!)))
                {
                    throw Error(where, $"two guests of one pair have the same tenant and address ({port.Tenant}, {port.Address})");
                }

                used.Add(name, where);
                guests.Add(name);
            }

            return guests;
        }

        private string PairPort(JsonElement pair, string at, string side, List<PortConfig> ports, Dictionary<string, string> used)
        {
            if (!pair.TryGetProperty(side, out JsonElement element))
            {
                throw Error($"{at}.{side}", "missing");
            }

            string name = String(element, $"{at}.{side}");
            PortConfig? port = ports.Find(p => p.Name == name) ?? throw Error($"{at}.{side}", $"no port named '{name}'");
            if (used.TryGetValue(name, out string? other))
            {
                throw Error($"{at}.{side}", $"port '{name}' is already used by {other}");
            }

            if (side == "secure" && port.Kind == PortKind.Generator)
            {
                throw Error($"{at}.{side}", $"a generator port only sends user traffic; it cannot be the secure side");
            }

            if (port.Kind == PortKind.Guest)
            {
                throw Error($"{at}.{side}", $"port '{name}' is a guest port: list it in a pair's \"guests\" (it shares that pair's secure port)");
            }

            used.Add(name, at);
            return name;
        }

        /// <summary>A generator port that runs on every worker (paired with another per-worker port) gives each
        /// worker the flows RSS hashes to it; a worker that would get none fails at start, so it is refused here.</summary>
        private void CheckGeneratorFlows(List<PortConfig> ports, List<PairConfig> pairs, int workers)
        {
            foreach (PairConfig pair in pairs)
            {
                PortConfig user = ports.First(p => p.Name == pair.User);
                PortConfig secure = ports.First(p => p.Name == pair.Secure);
                bool everyWorker = secure.Kind is PortKind.AfPacket or PortKind.Sink;
                if (user.Kind != PortKind.Generator || !everyWorker || workers == 1)
                {
                    continue;
                }

                var spec = new Dataplane.Ports.GeneratorSpec(user.FrameSize, user.Flows, user.Mappings);
                if (Dataplane.Ports.GeneratorPort.FirstWorkerWithoutFlows(spec, workers) is int idle)
                {
                    throw Error($"ports.{user.Name}.flows", $"{user.Flows} flow(s) leave worker {idle} of {workers} with none (give more flows than workers, or fewer workers)");
                }
            }
        }

        private VtpmConfig Vtpm(JsonElement element)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                throw Error("vtpm", "expected an object");
            }

            if (JsonFields.FirstUnknown(element, s_vtpmFields) is { } unknown)
            {
                throw Error("vtpm." + unknown, JsonFields.Reason(s_vtpmFields));
            }

            string mode = element.TryGetProperty("mode", out JsonElement modeElement) ? String(modeElement, "vtpm.mode") : throw Error("vtpm.mode", "missing");
            if (mode is not ("single" or "pair"))
            {
                throw Error("vtpm.mode", $"unknown mode '{mode}' (single or pair)");
            }

            bool pair = mode == "pair";
            foreach (string pairOnly in (string[])["durability", "timeoutMs"])
            {
                if (!pair && element.TryGetProperty(pairOnly, out _))
                {
                    throw Error("vtpm." + pairOnly, "applies to \"mode\": \"pair\" only");
                }
            }

            bool hasPort = element.TryGetProperty("port", out JsonElement portElement);
            bool hasSocket = element.TryGetProperty("socket", out JsonElement socketElement);
            if (hasPort && hasSocket)
            {
                throw Error("vtpm.port", "give \"socket\" (a Unix socket, the default) or \"port\" (TCP on 127.0.0.1), not both");
            }

            int? port = hasPort ? Int(portElement, "vtpm.port", 1, 65534) : null;
            bool allowTcpState = element.TryGetProperty("allowTcpStateCommands", out JsonElement allowElement) && Bool(allowElement, "vtpm.allowTcpStateCommands");
            if (allowTcpState && !hasPort)
            {
                throw Error("vtpm.allowTcpStateCommands", "applies to a TCP \"port\" only (the Unix sockets always serve them, to their owner)");
            }

            string state = element.TryGetProperty("state", out JsonElement stateElement) ? Resolve(String(stateElement, "vtpm.state")) : throw Error("vtpm.state", "missing");
            if (checkHost && Path.Exists(state) && !Directory.Exists(state))
            {
                throw Error("vtpm.state", $"'{state}' exists and is not a directory");
            }

            string? socket = hasSocket ? Resolve(String(socketElement, "vtpm.socket")) : null;
            if (socket is not null && (checkHost ? UnixSocketPath.ListenProblem(socket) ?? UnixSocketPath.ListenProblem(socket + VtpmEndpoint.ControlSuffix) : null) is string socketProblem)
            {
                throw Error("vtpm.socket", socketProblem);
            }

            string? control = hasPort ? null : (socket ?? Path.Combine(state, VtpmConfig.DefaultSocketName)) + VtpmEndpoint.ControlSuffix;
            foreach (string? path in (string?[])[control, pair ? Path.Combine(state, PairController.StatusSocketName) : null])
            {
                if (path is not null && System.Text.Encoding.UTF8.GetByteCount(path) > UnixSocketPath.MaxPathBytes)
                {
                    throw Error(hasSocket ? "vtpm.socket" : "vtpm.state", $"'{path}' is longer than a Unix socket path may be ({UnixSocketPath.MaxPathBytes} bytes)");
                }
            }

            PairDurability durability = PairDurability.Pair;
            if (element.TryGetProperty("durability", out JsonElement durabilityElement))
            {
                string name = String(durabilityElement, "vtpm.durability");
                durability = PairDurabilityNames.Parse(name)
                    ?? throw Error("vtpm.durability", $"unknown durability '{name}' ({string.Join(" or ", PairDurabilityNames.All)})");
            }

            int timeout = element.TryGetProperty("timeoutMs", out JsonElement timeoutElement) ? Int(timeoutElement, "vtpm.timeoutMs", 1, 600_000) : FastPath.Vtpm.VtpmHostOptions.DefaultTimeoutMs;
            return new VtpmConfig(port, state, pair, durability, timeout, socket, allowTcpState);
        }

        private string Resolve(string path) => Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(_folder, path));

        private byte[] Mac(JsonElement element, string at)
        {
            string text = String(element, at);
            byte[] mac = ParseMac(text) ?? throw Error(at, $"not a MAC address ('{text}')");
            if ((mac[0] & 1) != 0)
            {
                throw Error(at, $"multicast MAC address '{text}' cannot be a port or peer address");
            }

            return mac;
        }

        private string String(JsonElement element, string at) =>
            element.ValueKind == JsonValueKind.String ? element.GetString()! : throw Error(at, $"expected a string, not {Kind(element)}");

        private bool Bool(JsonElement element, string at) => element.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(at, $"expected true or false, not {Kind(element)}"),
        };

        private Dataplane.Pipeline.WorkerIdle Idle(JsonElement element, string at) => String(element, at) switch
        {
            "poll" => Dataplane.Pipeline.WorkerIdle.Poll,
            "spin" => Dataplane.Pipeline.WorkerIdle.Spin,
            string other => throw Error(at, $"unknown idle policy '{other}' (poll or spin)"),
        };

        private Dataplane.Ports.AfPacketRxRing RxRing(JsonElement element, string at) => String(element, at) switch
        {
            "frames" => Dataplane.Ports.AfPacketRxRing.Frames,
            "blocks" => Dataplane.Ports.AfPacketRxRing.Blocks,
            string other => throw Error(at, $"unknown ring '{other}' (frames or blocks)"),
        };

        private int Int(JsonElement element, string at, int min, int max)
        {
            if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out long value))
            {
                throw Error(at, $"expected an integer, not {Kind(element)}");
            }

            return value < min || value > max ? throw Error(at, $"{value} is out of range ({min}-{max})") : (int)value;
        }

        private long Long(JsonElement element, string at) =>
            element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out long value) && value >= 0
                ? value
                : throw Error(at, "expected a non-negative integer");

        private static string Kind(JsonElement element) => element.ValueKind switch
        {
            JsonValueKind.Number => "a number",
            JsonValueKind.String => "a string",
            JsonValueKind.Array => "an array",
            JsonValueKind.Object => "an object",
            JsonValueKind.Null => "null",
            _ => "a boolean",
        };

        private InputFileException Error(string path, string reason) => new($"{source}: {path}: {reason}");
    }
}
