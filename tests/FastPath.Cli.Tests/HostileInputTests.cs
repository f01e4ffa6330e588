using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using FastPath.Control.Config;
using FastPath.Testing;

namespace FastPath.Cli.Tests;

/// <summary>
/// What a careless operator or a local attacker hands the command line: FIFOs, devices, files truncated while
/// they are read, malformed and ambiguous JSON. Each one exits 2 (bad input) or 1 (runtime failure) with exactly
/// one line on stderr, and never hangs or crashes.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class HostileInputTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_fifo_or_a_device_as_config_maps_or_capture_is_refused_instead_of_hanging()
    {
        string fifo = _dir.File("fifo");
        ProcessRunner.Run("mkfifo", fifo).EnsureSuccess();
        string sample = Path.Combine(FastpathProcess.RepositoryRoot, "tools/samples/user-side.pcapng");
        string maps = Path.Combine(FastpathProcess.RepositoryRoot, "tools/samples/maps.json");

        // ProcessRunner's time bound turns a hang into a failure.
        AssertOneLine(FastpathProcess.Run("run", "--config", fifo, "--control", "unix:" + _dir.File("c.sock")), 2, "not a regular file (a FIFO)");
        AssertOneLine(FastpathProcess.Run("translate", "--maps", fifo, "--from", "user", sample, _dir.File("o.pcapng")), 2, "not a regular file (a FIFO)");
        AssertOneLine(FastpathProcess.Run("translate", "--maps", "/dev/zero", "--from", "user", sample, _dir.File("o.pcapng")), 2, "not a regular file (a character device)");
        AssertOneLine(FastpathProcess.Run("inspect", fifo), 2, "not a regular file (a FIFO)");
        AssertOneLine(FastpathProcess.Run("inspect", "/dev/zero"), 2, "not a regular file (a character device)");
        AssertOneLine(FastpathProcess.Run("translate", "--maps", maps, "--from", "user", "/dev/zero", _dir.File("o.pcapng")), 2, "not a regular file");
    }

    [Fact]
    public void A_capture_truncated_while_inspect_reads_it_exits_1_with_one_line_instead_of_sigbus()
    {
        // 60,000 minimal frames (≈5.7 MB): inspect prints a line per frame into a pipe nobody reads yet, so it
        // blocks inside the file; the file is then cut to its header and the rest of the output drained.
        string capture = _dir.File("big.pcap");
        WritePcap(capture, 60_000);
        var start = new ProcessStartInfo(FastpathProcess.Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("inspect");
        start.ArgumentList.Add(capture);
        using Process inspect = Process.Start(start)!;
        var stderr = new StringBuilder();
        inspect.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.Append(e.Data is null ? string.Empty : e.Data + "\n");
            }
        };
        inspect.BeginErrorReadLine();
        Assert.NotNull(inspect.StandardOutput.ReadLine());
        using (var file = new FileStream(capture, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(24);
        }

        int lines = 1;
        while (inspect.StandardOutput.ReadLine() is not null)
        {
            lines++;
        }

        Assert.True(inspect.WaitForExit(60_000), "inspect did not end");
        inspect.WaitForExit();
        string error;
        lock (stderr)
        {
            error = stderr.ToString();
        }

        Assert.True(inspect.ExitCode == 1, $"exit {inspect.ExitCode}: {error}");
        Assert.True(lines < 60_000, "the whole file was read before the truncation: the test proves nothing");
        AssertOneLine(new ProcessResult("inspect", inspect.ExitCode, string.Empty, error), 1, "truncated while it was read");
    }

    [Fact]
    public void A_pcapng_timestamp_that_overflows_nanoseconds_exits_2_with_its_offset()
    {
        foreach (byte resolution in (byte[])[0, 0x80])
        {
            string capture = _dir.File($"overflow-{resolution}.pcapng");
            File.WriteAllBytes(capture, PcapNgWithTimestamp(resolution, ulong.MaxValue / 2));
            ProcessResult inspect = FastpathProcess.Run("inspect", capture);
            AssertOneLine(inspect, 2, "offset 72: timestamp");
            Assert.DoesNotContain("-", inspect.StandardOutput, StringComparison.Ordinal);
            AssertOneLine(FastpathProcess.Run("translate", "--maps", Path.Combine(FastpathProcess.RepositoryRoot, "tools/samples/maps.json"), "--from", "user", capture, _dir.File("o.pcapng")), 2, "offset 72: timestamp");
        }
    }

    [Theory]
    [InlineData("""{ "mappings": [ { "tenant": 1, "user": "010.001.000.005", "secure": "198.18.0.1" } ] }""", "mappings[0].user: not an IP address in canonical form ('010.001.000.005'")]
    [InlineData("""{ "mappings": [ { "tenant": 1, "user": "10.0.0.1", "secure": "0x0a.0.0.1" } ] }""", "mappings[0].secure: not an IP address in canonical form ('0x0a.0.0.1'")]
    [InlineData("""{ "mappings": [ { "tenant": 1, "user": "10.0.0.1", "secure": "198.18.0.1", "user": "10.0.0.2" } ] }""", "mappings[0].user: given twice")]
    [InlineData("""{ "mappings": [], "mappings": [ { "tenant": 1, "user": "10.0.0.1", "secure": "198.18.0.1" } ] }""", "mappings: given twice")]
    public void Ambiguous_maps_files_exit_2(string maps, string expected)
    {
        File.WriteAllText(_dir.File("maps.json"), maps);
        string sample = Path.Combine(FastpathProcess.RepositoryRoot, "tools/samples/user-side.pcapng");
        AssertOneLine(FastpathProcess.Run("translate", "--maps", _dir.File("maps.json"), "--from", "user", sample, _dir.File("o.pcapng")), 2, expected);
    }

    [Fact]
    public void Config_errors_that_used_to_surface_after_start_exit_2_before_anything_opens()
    {
        string control = "unix:" + _dir.File("c.sock");

        // More workers than the generator's flows leave a worker without any.
        AssertOneLine(RunWith("""{ "workers": 4, "ports": { "g": { "type": "generator", "flows": 1, "mappings": 1 }, "s": { "type": "sink" } }, "pairs": [ { "user": "g", "secure": "s" } ] }""", control), 2, "ports.g.flows: 1 flow(s) leave worker");

        // vtpm.state naming a file.
        File.WriteAllText(_dir.File("state-file"), "x");
        AssertOneLine(RunWith("""{ "ports": { "g": { "type": "generator" }, "s": { "type": "sink" } }, "pairs": [ { "user": "g", "secure": "s" } ], "vtpm": { "mode": "single", "state": "state-file" } }""", control), 2, "vtpm.state: '");

        // A duplicate key, and invalid UTF-8 in a property name (file, line and column).
        AssertOneLine(RunWith("""{ "workers": 1, "workers": 2, "ports": { "g": { "type": "generator" }, "s": { "type": "sink" } }, "pairs": [ { "user": "g", "secure": "s" } ] }""", control), 2, "property 'workers' is given twice");
        string bad = _dir.File("utf8.json");
        File.WriteAllBytes(bad, [.. "{\n  \"w"u8, 0xC3, 0x28, .. "\": 1 }"u8]);
        AssertOneLine(FastpathProcess.Run("run", "--config", bad, "--control", control), 2, "utf8.json: line 2, column 5: invalid UTF-8");

        // A control socket path naming the config itself: refused, and the file survives.
        string config = _dir.File("keep.json");
        File.WriteAllText(config, """{ "ports": { "g": { "type": "generator" }, "s": { "type": "sink" } }, "pairs": [ { "user": "g", "secure": "s" } ] }""");
        AssertOneLine(FastpathProcess.Run("run", "--config", config, "--control", "unix:" + config), 2, "exists and is not a socket");
        Assert.Contains("generator", File.ReadAllText(config), StringComparison.Ordinal);
        AssertOneLine(FastpathProcess.Run("run", "--config", config, "--control", "unix:" + _dir.File("missing/c.sock")), 2, "does not exist");
        Assert.False(Directory.Exists(_dir.File("missing")));
    }

    /// <summary>
    /// Flips bytes of a valid configuration 400 times; each mutant that the loader refuses must make <c>fastpath
    /// run</c> exit 2 with exactly one line (never 1 with a .NET message, never a stack trace). Mutants run through
    /// the CLI in this process (a process each would take minutes; this way the test takes seconds); every 40th also
    /// through the real executable.
    /// </summary>
    [Fact]
    public void Config_mutations_always_exit_2_with_exactly_one_line()
    {
        File.WriteAllText(_dir.File("maps.json"), """{ "mappings": [ { "tenant": 100, "user": "10.0.0.1", "secure": "198.18.0.1" } ] }""");
        string valid = """
            {
              "workers": 2, "batch": 32, "maps": "maps.json", "metrics": "127.0.0.1:9464",
              "ports": {
                "g": { "type": "generator", "frame_size": 64, "flows": 64, "mappings": 4, "packets": 1000 },
                "s": { "type": "sink", "mac": "02:00:00:00:00:02" }
              },
              "pairs": [ { "user": "g", "secure": "s" } ],
              "vtpm": { "mode": "pair", "state": "vtpm", "durability": "sync", "timeoutMs": 500 }
            }
            """;
        byte[] original = Encoding.UTF8.GetBytes(valid);
        string control = "unix:" + _dir.File("c.sock");
        string path = _dir.File("mutant.json");
        var random = new Random(21);
        int refused = 0;
        int viaProcess = 0;
        for (int round = 0; round < 400; round++)
        {
            byte[] mutant = (byte[])original.Clone();
            int flips = 1 + random.Next(3);
            for (int i = 0; i < flips; i++)
            {
                mutant[random.Next(mutant.Length)] = (byte)random.Next(256);
            }

            File.WriteAllBytes(path, mutant);
            try
            {
                ConfigLoader.Load(path, control);
                continue; // Still a valid configuration (a digit for a digit): it would start a daemon.
            }
            catch (FastPath.Control.InputFileException)
            {
                refused++;
            }
            catch (Exception error)
            {
                Assert.Fail($"mutant {round} ({Encoding.UTF8.GetString(mutant)}) threw {error.GetType().Name}: {error.Message}");
            }

            (int code, string stderr) = InProcess(["run", "--config", path, "--control", control]);
            AssertOneLine(new ProcessResult($"mutant {round}", code, string.Empty, stderr), 2, path);
            if (round % 40 == 0)
            {
                viaProcess++;
                AssertOneLine(FastpathProcess.Run("run", "--config", path, "--control", control), 2, path);
            }
        }

        Assert.True(refused > 300, $"only {refused} of 400 mutants were invalid: the mutation does not exercise the loader");
        Assert.True(viaProcess > 0);
    }

    private ProcessResult RunWith(string json, string control)
    {
        string config = _dir.File("config.json");
        File.WriteAllText(config, json);
        return FastpathProcess.Run("run", "--config", config, "--control", control);
    }

    private static (int Code, string Stderr) InProcess(string[] arguments)
    {
        TextWriter saved = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        try
        {
            return (FastPathCli.Run(arguments), captured.ToString());
        }
        finally
        {
            Console.SetError(saved);
        }
    }

    private static void AssertOneLine(ProcessResult result, int exitCode, string expected)
    {
        string[] lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(result.ExitCode == exitCode && lines.Length == 1, $"{result.Command}: exit {result.ExitCode}, stderr:\n{result.StandardError}");
        Assert.StartsWith("fastpath: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
    }

    /// <summary>A classic pcap of <paramref name="count"/> 60-byte Ethernet frames.</summary>
    private static void WritePcap(string path, int count)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0xa1b2c3d4);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], 1);
        file.Write(header);
        Span<byte> record = stackalloc byte[16 + 60];
        record.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(record[8..], 60);
        BinaryPrimitives.WriteUInt32LittleEndian(record[12..], 60);
        record[16 + 12] = 0x08; // EtherType IPv4 (the rest is a truncated header: inspect still prints a line)
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)i);
            file.Write(record);
        }
    }

    /// <summary>SHB (28 bytes), IDB with if_tsresol = <paramref name="resolution"/> (32 bytes), one EPB at offset 60 (its timestamp at 72).</summary>
    private static byte[] PcapNgWithTimestamp(byte resolution, ulong units)
    {
        var bytes = new List<byte>();
        void U32(uint value) => bytes.AddRange(BitConverter.GetBytes(value));
        void U16(ushort value) => bytes.AddRange(BitConverter.GetBytes(value));
        U32(0x0A0D0D0A); U32(28); U32(0x1A2B3C4D); U16(1); U16(0); U32(0xFFFFFFFF); U32(0xFFFFFFFF); U32(28);
        U32(1); U32(32); U16(1); U16(0); U32(65535); U16(9); U16(1); bytes.AddRange([resolution, 0, 0, 0]); U16(0); U16(0); U32(32);
        U32(6); U32(32 + 60); U32(0); U32((uint)(units >> 32)); U32((uint)units); U32(60); U32(60);
        bytes.AddRange(new byte[60]);
        U32(32 + 60);
        return [.. bytes];
    }
}

/// <summary>Tests that redirect <see cref="Console"/> run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "Console";
}
