using System.Globalization;
using System.Text;
using System.Text.Json;
using FastPath.Dataplane;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports;

namespace FastPath.Control.Offline;

/// <summary>
/// <c>fastpath inspect</c>: runs the data plane's header parser on every packet of a capture file and prints one
/// line per packet (layers, VLAN, addresses, ports, protocol, verdict), as text or as one JSON object per line.
/// </summary>
/// <remarks>Not thread-safe: one call reads one file and writes one stream.</remarks>
public static class CaptureInspector
{
    /// <summary>Writes a line for every packet of <paramref name="path"/> to <paramref name="output"/>; returns the packet count.</summary>
    /// <exception cref="CaptureFileException">The file is malformed; packets before the bad record have been written.</exception>
    public static long Run(string path, bool json, TextWriter output)
    {
        using CaptureReader reader = CaptureReader.Open(path);
        using var buffer = new MemoryStream();
        using var writer = new Utf8JsonWriter(buffer);
        while (reader.TryReadNext(out CapturedPacket packet))
        {
            long index = reader.PacketsRead - 1;
            // One frame at a time: inspect is a debugging tool, and the parser's verdict does not depend on batching.
            PacketSummary summary = PacketSummary.From(packet.Data, HeaderParser.ParseOne(packet.Data));
            if (json)
            {
                buffer.SetLength(0);
                writer.Reset(buffer);
                WriteJson(writer, index, packet, summary);
                writer.Flush();
                output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            }
            else
            {
                output.WriteLine(FormatText(index, packet, summary));
            }
        }

        return reader.PacketsRead;
    }

    private static void WriteJson(Utf8JsonWriter writer, long index, in CapturedPacket packet, PacketSummary summary)
    {
        writer.WriteStartObject();
        writer.WriteNumber("index", index);
        WriteNumberOrNull(writer, "vlan", summary.Vlan);
        WriteStringOrNull(writer, "family", summary.Family);
        WriteStringOrNull(writer, "src", summary.Source);
        WriteStringOrNull(writer, "dst", summary.Destination);
        WriteNumberOrNull(writer, "proto", summary.Protocol);
        WriteNumberOrNull(writer, "sport", summary.SourcePort);
        WriteNumberOrNull(writer, "dport", summary.DestinationPort);
        writer.WriteString("fragment", summary.Fragment);
        writer.WriteString("verdict", DropReasons.Name(summary.Verdict));
        writer.WriteNumber("time_ns", packet.TimestampNanoseconds);
        writer.WriteNumber("length", packet.OriginalLength);
        writer.WriteNumber("caplen", packet.Data.Length);
        writer.WriteEndObject();
    }

    private static string FormatText(long index, in CapturedPacket packet, PacketSummary summary)
    {
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"{index} {FormatTime(packet.TimestampNanoseconds)} len={packet.OriginalLength} caplen={packet.Data.Length} {summary.Layers}");
        if (summary.Vlan is int vlan)
        {
            line.Append(CultureInfo.InvariantCulture, $" vlan={vlan}");
        }

        if (summary.Source is not null)
        {
            line.Append(' ').Append(Endpoint(summary.Source, summary.SourcePort, summary.Family))
                .Append(" > ").Append(Endpoint(summary.Destination!, summary.DestinationPort, summary.Family));
        }

        if (summary.Protocol is int protocol)
        {
            line.Append(CultureInfo.InvariantCulture, $" proto={protocol}");
        }

        if (summary.Fragment != "none")
        {
            line.Append(" fragment=").Append(summary.Fragment);
        }

        return line.Append(' ').Append(DropReasons.Name(summary.Verdict)).ToString();
    }

    private static string Endpoint(string address, int? port, string? family) => port switch
    {
        null => address,
        _ when family == "ipv6" => string.Create(CultureInfo.InvariantCulture, $"[{address}]:{port}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{address}:{port}"),
    };

    private static void WriteNumberOrNull(Utf8JsonWriter writer, string name, int? value)
    {
        if (value is int number)
        {
            writer.WriteNumber(name, number);
        }
        else
        {
            writer.WriteNull(name);
        }
    }

    private static void WriteStringOrNull(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    private static string FormatTime(long nanoseconds) =>
        string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1_000_000_000}.{nanoseconds % 1_000_000_000:D9}");
}
