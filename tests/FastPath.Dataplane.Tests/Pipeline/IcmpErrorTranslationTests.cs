using System.Net;
using System.Text.Json;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;
using FastPath.Dataplane.Rewrite;
using FastPath.Dataplane.Tests.Infrastructure;
using FastPath.Testing;

namespace FastPath.Dataplane.Tests.Pipeline;

/// <summary>
/// Config → send → verify for the packet quoted inside ICMP / ICMPv6 errors: scapy (icmp_error_cases.py) builds what
/// arrives on each side and, from scratch, what must leave — outer and quoted addresses translated, every checksum
/// computed in full over the whole original datagram and then cut to the quote's length. The stage's output must equal
/// it byte for byte, each frame processed flush against a PROT_NONE page so that reading or writing one byte past a
/// truncated quote faults; tshark then checks every checksum on its own and that no address of the other environment
/// is left in the translated messages.
/// </summary>
public sealed unsafe class IcmpErrorTranslationTests : IDisposable
{
    private const int Headroom = 4;
    private static readonly Lazy<IReadOnlyList<IcmpCase>> s_cases = new(LoadCases);

    private readonly MappingTable _table = new();
    private readonly TranslationStage _toSecure;
    private readonly TranslationStage _toUser;

    public IcmpErrorTranslationTests()
    {
        (int Tenant, string User, string Secure)[] maps =
        [
            (0, "10.0.0.5", "198.19.1.5"), (0, "10.0.0.9", "198.19.1.9"), (0, "fd00::5", "2001:db8:2::5"),
            (100, "10.0.0.7", "198.19.1.7"), (100, "10.0.0.8", "198.19.1.8"),
            (100, "fd00::7", "2001:db8:2::7"), (100, "fd00::8", "2001:db8:2::8"),
        ];
        foreach ((int tenant, string user, string secure) in maps)
        {
            _table.Add(MappingEntry.Create(tenant, IPAddress.Parse(user), IPAddress.Parse(secure)));
        }

        _toSecure = new TranslationStage(_table, TranslationDirection.UserToSecure, null);
        _toUser = new TranslationStage(_table, TranslationDirection.SecureToUser, null);
    }

    public void Dispose() => _table.Dispose();

    [Fact]
    public void The_corpus_covers_every_kind_of_case()
    {
        IReadOnlyList<IcmpCase> cases = s_cases.Value;
        Assert.True(cases.Count(c => c.Expected is not null && c.Name.Contains("cut", StringComparison.Ordinal)) >= 40);
        Assert.True(cases.Count(c => c.Drop == "no-mapping") >= 6);
        Assert.Contains(cases, c => c.Drop == "truncated");
        Assert.Contains(cases, c => c.Drop == "bad-version");
        Assert.Contains(cases, c => c.Drop == "bad-ihl");
        Assert.Equal(4, cases.Count(c => c.BadSum >= 0));
        Assert.Contains(cases, c => c.Direction == "u2s" && c.Name.Contains("t100", StringComparison.Ordinal));
    }

    [Fact]
    public void Every_error_leaves_exactly_as_scapy_built_it_with_both_headers_translated()
    {
        using var guarded = new GuardedFrames();
        var failures = new List<string>();
        foreach (IcmpCase c in s_cases.Value.Where(c => c.Expected is not null && c.BadSum < 0))
        {
            (DropReason verdict, byte[] output) = RunGuarded(guarded, c);
            if (verdict != DropReason.None)
            {
                failures.Add($"{c.Name}: dropped as {DropReasons.Name(verdict)}");
            }
            else if (!output.AsSpan().SequenceEqual(c.Expected))
            {
                failures.Add($"{c.Name}:\n  expected {Convert.ToHexString(c.Expected!)}\n  actual   {Convert.ToHexString(output)}");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void A_quote_that_names_the_other_environment_or_cannot_be_read_drops_the_whole_message()
    {
        using var guarded = new GuardedFrames();
        var failures = new List<string>();
        foreach (IcmpCase c in s_cases.Value.Where(c => c.Drop is not null))
        {
            (DropReason verdict, _) = RunGuarded(guarded, c);
            if (DropReasons.Name(verdict) != c.Drop)
            {
                failures.Add($"{c.Name}: expected {c.Drop}, got {DropReasons.Name(verdict)}");
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [Fact]
    public void A_wrong_outer_checksum_stays_wrong_by_the_same_amount()
    {
        using var guarded = new GuardedFrames();
        IcmpCase[] cases = s_cases.Value.Where(c => c.BadSum >= 0).ToArray();
        Assert.Equal(4, cases.Length);
        foreach (IcmpCase c in cases)
        {
            (DropReason verdict, byte[] output) = RunGuarded(guarded, c);
            Assert.Equal(DropReason.None, verdict);
            byte[] expected = c.Expected!;
            Assert.Equal(expected.Length, output.Length);

            // Everything but the checksum is as scapy built it; the checksum is off from the correct one by exactly the
            // error the input carried (0x5A5A flipped bits, which in ones' complement is the same distance both times).
            Assert.True(output.AsSpan(0, c.BadSum).SequenceEqual(expected.AsSpan(0, c.BadSum)), c.Name);
            Assert.True(output.AsSpan(c.BadSum + 2).SequenceEqual(expected.AsSpan(c.BadSum + 2)), c.Name);
            int wrong = (output[c.BadSum] << 8) | output[c.BadSum + 1];
            int correct = (expected[c.BadSum] << 8) | expected[c.BadSum + 1];
            Assert.NotEqual(correct, wrong);
            int inputAt = c.Input.Length - expected.Length + c.BadSum; // a tag popped or pushed moves the field by 4
            int inputWrong = (c.Input[inputAt] << 8) | c.Input[inputAt + 1];
            Assert.Equal(OnesComplementDistance(inputWrong, InputCorrectChecksum(c)), OnesComplementDistance(wrong, correct));
        }
    }

    [Fact]
    public void A_batch_mixing_errors_with_ordinary_packets_translates_each_as_alone()
    {
        // Every case in one batch per direction, with ordinary UDP between them: the error path's early drops and the
        // bulk path's indices must not disturb each other.
        foreach (string direction in new[] { "u2s", "s2u" })
        {
            IcmpCase[] plain = s_cases.Value.Where(c => c.Direction == direction && c.Name.Contains("plain", StringComparison.Ordinal)).ToArray();
            Assert.Equal(2, plain.Length);
            IcmpCase[] cases = s_cases.Value.Where(c => c.Direction == direction && !plain.Contains(c))
                .SelectMany((c, i) => new[] { c, plain[i % 2] }).Take(TranslationStage.MaxBatch).ToArray();
            int slot = 256;
            byte[] memory = new byte[cases.Length * slot];
            var frames = new FrameView[cases.Length];
            var meta = new PacketMeta[cases.Length];
            fixed (byte* b = memory)
            {
                for (int i = 0; i < cases.Length; i++)
                {
                    cases[i].Input.CopyTo(memory.AsSpan((i * slot) + 16));
                    frames[i] = new FrameView(b + (i * slot) + 16, cases[i].Input.Length);
                }

                (direction == "u2s" ? _toSecure : _toUser).Process(frames, meta);
                for (int i = 0; i < cases.Length; i++)
                {
                    IcmpCase c = cases[i];
                    if (c.Drop is not null)
                    {
                        Assert.True(DropReasons.Name(meta[i].Verdict) == c.Drop, c.Name);
                    }
                    else
                    {
                        Assert.True(meta[i].Verdict == DropReason.None, c.Name);
                        byte[] output = new ReadOnlySpan<byte>(frames[i].Data, frames[i].Length).ToArray();
                        if (c.BadSum < 0)
                        {
                            Assert.True(output.AsSpan().SequenceEqual(c.Expected), c.Name);
                        }
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData("u2s")]
    [InlineData("s2u")]
    public void Tshark_finds_every_checksum_good_and_no_address_of_the_other_environment(string direction)
    {
        using var guarded = new GuardedFrames();
        using var dir = new TempDirectory();
        string path = dir.File(direction + ".pcap");
        int written = 0;
        var names = new List<string>();
        using (var writer = CaptureWriter.Create(path, new CaptureFormat(CaptureFileKind.Pcap, Nanoseconds: false)))
        {
            foreach (IcmpCase c in s_cases.Value.Where(c => c.Direction == direction && c.Expected is not null && c.BadSum < 0 && !c.Name.Contains("plain", StringComparison.Ordinal)))
            {
                (DropReason verdict, byte[] output) = RunGuarded(guarded, c);
                Assert.Equal(DropReason.None, verdict);
                writer.Write(output, written++ * 1000L);
                names.Add(c.Name);
            }
        }

        IReadOnlyList<string[]> rows = Tshark.Fields(path,
            ["frame.number", "ip.checksum.status", "icmp.checksum.status", "icmpv6.checksum.status", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst"],
            ["ip.check_checksum:TRUE"]);
        Assert.Equal(written, rows.Count);
        int quotedHeaders = 0;
        for (int r = 0; r < rows.Count; r++)
        {
            string[] row = rows[r];
            string line = names[r] + ": " + string.Join('|', row);

            // One IPv4 checksum status per IPv4 header, the quoted one included; every one good.
            Assert.All(row[1].Split(',', StringSplitOptions.RemoveEmptyEntries), status => Assert.True(status == "1", line));
            // The outer ICMP / ICMPv6 checksum is good; a quoted echo's may be "unverified" (2) when cut, never bad (0).
            // A non-first fragment shows tshark no ICMP header at all.
            string[] icmp = (row[2].Length > 0 ? row[2] : row[3]).Split(',');
            Assert.True(names[r].Contains("non-first", StringComparison.Ordinal) || (icmp[0] == "1" && !icmp.Contains("0")), line);
            string[] addresses = string.Join(',', row[4..8]).Split(',', StringSplitOptions.RemoveEmptyEntries);
            quotedHeaders += addresses.Length >= 4 ? 1 : 0;
            // The one deliberate exception: a quoted destination of another tenant stays, as the outer source would.
            foreach (string address in names[r].EndsWith("stays", StringComparison.Ordinal) ? addresses[..^1] : addresses)
            {
                Assert.False(direction == "u2s" ? IsUserAddress(address) : IsSecureAddressOfAUser(address), $"{address} leaked: {line}");
            }
        }

        // Every row but the non-error ones shows the quoted header's addresses too.
        Assert.True(quotedHeaders >= written - 3, $"tshark dissected only {quotedHeaders} of {written} quotes");
    }

    private static bool IsUserAddress(string address) => address.StartsWith("10.", StringComparison.Ordinal) || address.StartsWith("fd00:", StringComparison.Ordinal);

    private static bool IsSecureAddressOfAUser(string address) =>
        address.StartsWith("198.19.1.", StringComparison.Ordinal) || (address.StartsWith("2001:db8:2::", StringComparison.Ordinal) && address != "2001:db8:2::1");

    private (DropReason Verdict, byte[] Output) RunGuarded(GuardedFrames guarded, IcmpCase c)
    {
        // The frame's last byte is the last readable byte; the 4 bytes before it are headroom for a VLAN push.
        byte[] withHeadroom = new byte[Headroom + c.Input.Length];
        c.Input.CopyTo(withHeadroom, Headroom);
        byte* start = guarded.Place(withHeadroom) + Headroom;
        var frames = new[] { new FrameView(start, c.Input.Length) };
        var meta = new PacketMeta[1];
        (c.Direction == "u2s" ? _toSecure : _toUser).Process(frames, meta);
        return (meta[0].Verdict, new ReadOnlySpan<byte>(frames[0].Data, frames[0].Length).ToArray());
    }

    /// <summary>The ones' complement distance between two checksum field values (both read big-endian).</summary>
    private static int OnesComplementDistance(int a, int b) => ((a - b) % 0xFFFF + 0xFFFF) % 0xFFFF;

    /// <summary>What the input's outer ICMP checksum would be if it were correct: the full RFC 1071 sum of the input.</summary>
    private static int InputCorrectChecksum(IcmpCase c)
    {
        fixed (byte* p = c.Input)
        {
            var meta = new PacketMeta();
            HeaderParser.ParseFrame(p, c.Input.Length, ref meta);
            ulong pseudo = 0;
            int l4Length = meta.PacketEnd - meta.L4Offset;
            if (meta.IpVersion == 6)
            {
                for (int i = 0; i < 32; i += 4)
                {
                    pseudo += *(uint*)(p + meta.SourceOffset + i);
                }

                pseudo += (ulong)System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)l4Length) + System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(58u);
            }

            ushort field = *(ushort*)(p + meta.L4ChecksumOffset);
            *(ushort*)(p + meta.L4ChecksumOffset) = 0;
            ushort correct = IncrementalChecksum.Compute(p + meta.L4Offset, l4Length, pseudo);
            *(ushort*)(p + meta.L4ChecksumOffset) = field;
            return System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(correct);
        }
    }

    private static IReadOnlyList<IcmpCase> LoadCases()
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Pipeline", "icmp_error_cases.py");
        string output = ProcessRunner.Run(Scapy.Python, [script], TimeSpan.FromMinutes(2)).EnsureSuccess().StandardOutput;
        var cases = new List<IcmpCase>();
        foreach (string line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using JsonDocument document = JsonDocument.Parse(line);
            JsonElement root = document.RootElement;
            string? expected = root.GetProperty("expected").GetString();
            cases.Add(new IcmpCase(
                root.GetProperty("name").GetString()!,
                root.GetProperty("dir").GetString()!,
                Convert.FromHexString(root.GetProperty("input").GetString()!),
                expected is null ? null : Convert.FromHexString(expected),
                root.GetProperty("drop").GetString(),
                root.GetProperty("badsum").GetInt32()));
        }

        return cases;
    }
}
