using System.Globalization;
using System.Text.Json;
using FastPath.Dataplane.Ports;

namespace FastPath.Control.Offline;

/// <summary>
/// <c>fastpath inspect</c>: one line per packet of a capture file, as text or as one JSON object per line.
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
            if (json)
            {
                buffer.SetLength(0);
                writer.Reset(buffer);
                writer.WriteStartObject();
                writer.WriteNumber("index", index);
                writer.WriteNumber("time_ns", packet.TimestampNanoseconds);
                writer.WriteNumber("length", packet.OriginalLength);
                writer.WriteNumber("caplen", packet.Data.Length);
                writer.WriteEndObject();
                writer.Flush();
                output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            }
            else
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{index} {FormatTime(packet.TimestampNanoseconds)} len={packet.OriginalLength} caplen={packet.Data.Length}"));
            }
        }

        return reader.PacketsRead;
    }

    private static string FormatTime(long nanoseconds) =>
        string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1_000_000_000}.{nanoseconds % 1_000_000_000:D9}");
}
