using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FastPath.Dataplane.Capture;

/// <summary>
/// The capture filter language, small on purpose: <c>tenant N</c>, <c>host ADDR</c>, <c>net ADDR/LEN</c>, <c>udp</c>,
/// <c>tcp</c>, <c>icmp</c> (ICMP and ICMPv6), <c>port N</c> (source or destination, UDP/TCP), combined with <c>and</c>,
/// <c>or</c>, <c>not</c> and parentheses (<c>not</c> binds tightest, then <c>and</c>, then <c>or</c>). An empty filter
/// matches every frame. Example: <c>tenant 100 and udp port 53</c>; two primitives side by side mean <c>and</c>.
/// </summary>
/// <remarks>
/// Compiled once to a postfix program of value-type instructions, evaluated per captured frame on a small stack:
/// no allocation, no virtual call. Immutable, so any number of workers may evaluate it at once.
/// </remarks>
public sealed class CaptureFilter
{
    private const int MaxInstructions = 256;
    private const int MaxDepth = 64;
    private readonly Instruction[] _program;

    private CaptureFilter(Instruction[] program, string text)
    {
        _program = program;
        Text = text;
    }

    /// <summary>The filter that matches everything.</summary>
    public static CaptureFilter All { get; } = new([], string.Empty);

    /// <summary>The filter as written.</summary>
    public string Text { get; }

    private enum Op : byte
    {
        Tenant,
        Host4,
        Host6,
        Net4,
        Net6,
        Protocol,
        Port,
        And,
        Or,
        Not,
    }

    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="FormatException">The filter is not valid; the message says where and what was expected.</exception>
    public static CaptureFilter Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return All;
        }

        var parser = new Parser(text);
        List<Instruction> program = parser.ParseAll();
        if (program.Count > MaxInstructions)
        {
            throw new FormatException($"filter: more than {MaxInstructions} terms");
        }

        return new CaptureFilter([.. program], text.Trim());
    }

    /// <summary>Whether <paramref name="frame"/> (Ethernet, optionally one 802.1Q tag whose VID is the tenant) matches.</summary>
    public bool Matches(ReadOnlySpan<byte> frame)
    {
        if (_program.Length == 0)
        {
            return true;
        }

        FrameFields fields = FrameFields.Read(frame);
        Span<bool> stack = stackalloc bool[MaxDepth];
        int top = 0;
        foreach (ref readonly Instruction instruction in _program.AsSpan())
        {
            switch (instruction.Op)
            {
                case Op.And:
                    top--;
                    stack[top - 1] = stack[top - 1] & stack[top];
                    break;
                case Op.Or:
                    top--;
                    stack[top - 1] = stack[top - 1] | stack[top];
                    break;
                case Op.Not:
                    stack[top - 1] = !stack[top - 1];
                    break;
                default:
                    stack[top++] = instruction.Test(in fields);
                    break;
            }
        }

        return stack[0];
    }

    private readonly record struct Instruction(Op Op, ulong High = 0, ulong Low = 0, int Value = 0)
    {
        public bool Test(in FrameFields f) => Op switch
        {
            Op.Tenant => f.Tenant == Value,
            Op.Host4 => f.Family == 4 && (f.Source.Low == Low || f.Destination.Low == Low),
            Op.Host6 => f.Family == 6 && ((f.Source.High == High && f.Source.Low == Low) || (f.Destination.High == High && f.Destination.Low == Low)),
            Op.Net4 => f.Family == 4 && (((f.Source.Low ^ Low) & Mask(Value, 32)) == 0 || ((f.Destination.Low ^ Low) & Mask(Value, 32)) == 0),
            Op.Net6 => f.Family == 6 && (InNet6(f.Source) || InNet6(f.Destination)),
            Op.Protocol => f.Family != 0 && (f.Protocol == Value || (Value == 1 && f.Protocol == 58)),
            Op.Port => f.HasPorts && (f.SourcePort == Value || f.DestinationPort == Value),
            _ => false,
        };

        private static ulong Mask(int bits, int width) => bits == 0 ? 0 : (ulong.MaxValue << (64 - bits)) >> (64 - width);

        private bool InNet6((ulong High, ulong Low) address) =>
            ((address.High ^ High) & Mask(Math.Min(Value, 64), 64)) == 0 && ((address.Low ^ Low) & Mask(Math.Max(Value - 64, 0), 64)) == 0;
    }

    /// <summary>The fields the filter tests, read from the frame's headers (IPv6 extension headers are not walked).</summary>
    private readonly struct FrameFields
    {
        public int Tenant { get; init; }

        public int Family { get; init; }

        public (ulong High, ulong Low) Source { get; init; }

        public (ulong High, ulong Low) Destination { get; init; }

        public int Protocol { get; init; }

        public bool HasPorts { get; init; }

        public int SourcePort { get; init; }

        public int DestinationPort { get; init; }

        public static FrameFields Read(ReadOnlySpan<byte> frame)
        {
            if (frame.Length < 14)
            {
                return default;
            }

            int tenant = 0;
            int offset = 12;
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
            if (type == 0x8100 && frame.Length >= 18)
            {
                tenant = BinaryPrimitives.ReadUInt16BigEndian(frame[14..]) & 0x0FFF;
                offset = 16;
                type = BinaryPrimitives.ReadUInt16BigEndian(frame[offset..]);
            }

            offset += 2;
            ReadOnlySpan<byte> ip = frame[offset..];
            int protocol;
            int headerLength;
            int family;
            (ulong, ulong) source, destination;
            bool first = true;
            if (type == 0x0800 && ip.Length >= 20 && ip[0] >> 4 == 4)
            {
                family = 4;
                headerLength = (ip[0] & 0x0F) * 4;
                protocol = ip[9];
                source = (0, BinaryPrimitives.ReadUInt32BigEndian(ip[12..]));
                destination = (0, BinaryPrimitives.ReadUInt32BigEndian(ip[16..]));
                first = (BinaryPrimitives.ReadUInt16BigEndian(ip[6..]) & 0x1FFF) == 0;
            }
            else if (type == 0x86DD && ip.Length >= 40 && ip[0] >> 4 == 6)
            {
                family = 6;
                headerLength = 40;
                protocol = ip[6];
                source = (BinaryPrimitives.ReadUInt64BigEndian(ip[8..]), BinaryPrimitives.ReadUInt64BigEndian(ip[16..]));
                destination = (BinaryPrimitives.ReadUInt64BigEndian(ip[24..]), BinaryPrimitives.ReadUInt64BigEndian(ip[32..]));
            }
            else
            {
                return new FrameFields { Tenant = tenant };
            }

            bool ports = first && (protocol == 6 || protocol == 17) && headerLength >= 20 && ip.Length >= headerLength + 4;
            return new FrameFields
            {
                Tenant = tenant,
                Family = family,
                Protocol = protocol,
                Source = source,
                Destination = destination,
                HasPorts = ports,
                SourcePort = ports ? BinaryPrimitives.ReadUInt16BigEndian(ip[headerLength..]) : -1,
                DestinationPort = ports ? BinaryPrimitives.ReadUInt16BigEndian(ip[(headerLength + 2)..]) : -1,
            };
        }
    }

    /// <summary>Recursive descent: or-expression of and-expressions of (not)* primaries; emits postfix.</summary>
    private sealed class Parser(string text)
    {
        private readonly string[] _tokens = Tokenize(text);
        private readonly List<Instruction> _out = [];
        private int _at;

        public List<Instruction> ParseAll()
        {
            ParseOr(0);
            if (_at < _tokens.Length)
            {
                throw Error($"unexpected '{_tokens[_at]}'");
            }

            return _out;
        }

        private static string[] Tokenize(string text)
        {
            var tokens = new List<string>();
            int i = 0;
            while (i < text.Length)
            {
                char c = text[i];
                if (char.IsWhiteSpace(c))
                {
                    i++;
                }
                else if (c is '(' or ')')
                {
                    tokens.Add(c.ToString());
                    i++;
                }
                else
                {
                    int start = i;
                    while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not '(' and not ')')
                    {
                        i++;
                    }

                    tokens.Add(text[start..i]);
                }
            }

            return [.. tokens];
        }

        private void ParseOr(int depth)
        {
            ParseAnd(depth);
            while (Peek() == "or")
            {
                _at++;
                ParseAnd(depth);
                _out.Add(new Instruction(Op.Or));
            }
        }

        private void ParseAnd(int depth)
        {
            ParseNot(depth);
            while (Peek() is string next && next != "or" && next != ")")
            {
                if (next == "and")
                {
                    _at++;
                }

                ParseNot(depth);
                _out.Add(new Instruction(Op.And));
            }
        }

        private void ParseNot(int depth)
        {
            if (depth > MaxDepth / 2)
            {
                throw Error("nested too deeply");
            }

            if (Peek() == "not")
            {
                _at++;
                ParseNot(depth + 1);
                _out.Add(new Instruction(Op.Not));
                return;
            }

            ParsePrimary(depth);
        }

        private void ParsePrimary(int depth)
        {
            string word = Next("a term (tenant, host, net, udp, tcp, icmp, port, not, '(')");
            switch (word)
            {
                case "(":
                    ParseOr(depth + 1);
                    if (Next("')'") != ")")
                    {
                        _at--;
                        throw Error($"expected ')' before '{_tokens[_at]}'");
                    }

                    return;
                case "udp":
                    _out.Add(new Instruction(Op.Protocol, Value: 17));
                    return;
                case "tcp":
                    _out.Add(new Instruction(Op.Protocol, Value: 6));
                    return;
                case "icmp":
                    _out.Add(new Instruction(Op.Protocol, Value: 1));
                    return;
                case "tenant":
                    _out.Add(new Instruction(Op.Tenant, Value: Number("tenant", 0, 4095)));
                    return;
                case "port":
                    _out.Add(new Instruction(Op.Port, Value: Number("port", 0, 65535)));
                    return;
                case "host":
                    _out.Add(Address(Next("an address after 'host'"), prefix: -1));
                    return;
                case "net":
                    string net = Next("ADDRESS/LENGTH after 'net'");
                    int slash = net.IndexOf('/', StringComparison.Ordinal);
                    if (slash < 0 || !int.TryParse(net.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int length))
                    {
                        throw Error($"'net {net}': expected ADDRESS/LENGTH");
                    }

                    _out.Add(Address(net[..slash], length));
                    return;
                default:
                    throw Error($"unknown term '{word}' (expected tenant, host, net, udp, tcp, icmp, port, and, or, not, parentheses)");
            }
        }

        private Instruction Address(string text, int prefix)
        {
            if (!IPAddress.TryParse(text, out IPAddress? address) || text.Contains('%', StringComparison.Ordinal))
            {
                throw Error($"'{text}' is not an IPv4 or IPv6 address");
            }

            Span<byte> bytes = stackalloc byte[16];
            address.TryWriteBytes(bytes, out int written);
            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                if (prefix > 32)
                {
                    throw Error($"prefix /{prefix} is longer than 32 for {text}");
                }

                ulong v4 = BinaryPrimitives.ReadUInt32BigEndian(bytes);
                return prefix < 0 ? new Instruction(Op.Host4, Low: v4) : new Instruction(Op.Net4, Low: v4, Value: prefix);
            }

            if (prefix > 128)
            {
                throw Error($"prefix /{prefix} is longer than 128 for {text}");
            }

            ulong high = BinaryPrimitives.ReadUInt64BigEndian(bytes);
            ulong low = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
            return prefix < 0 ? new Instruction(Op.Host6, high, low) : new Instruction(Op.Net6, high, low, prefix);
        }

        private int Number(string what, int min, int max)
        {
            string word = Next($"a number after '{what}'");
            if (!int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
            {
                throw Error($"'{what} {word}': expected a number from {min} to {max}");
            }

            return value;
        }

        private string? Peek() => _at < _tokens.Length ? _tokens[_at] : null;

        private string Next(string expected) => _at < _tokens.Length ? _tokens[_at++] : throw Error($"expected {expected} at the end");

        private FormatException Error(string message) => new($"filter: {message}");
    }
}
