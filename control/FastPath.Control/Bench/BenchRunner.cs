using System.Globalization;
using System.Text.Json;
using FastPath.Dataplane.Pipeline;

namespace FastPath.Control.Bench;

/// <summary>
/// <c>fastpath bench</c>'s front end: runs <see cref="InMemoryBenchmark"/>, draws a progress bar when the output is a
/// terminal, and prints a plain summary or one JSON object.
/// </summary>
/// <remarks>Not thread-safe: one run per call.</remarks>
public static class BenchRunner
{
    private const int BarWidth = 30;

    /// <summary>Runs the benchmark and writes its report to <paramref name="output"/>.</summary>
    public static BenchResult Run(BenchOptions options, bool json, bool terminal, TextWriter output)
    {
        Action<long>? progress = terminal && !json ? done => DrawBar(done, options.Packets, output) : null;
        if (!json)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"fastpath bench: {options.Packets:N0} packets of {options.FrameSize} B, {options.Flows:N0} flows, {options.Mappings:N0} mappings, {options.Workers} worker(s), batch {options.BatchSize}"));
        }

        BenchResult result = InMemoryBenchmark.Run(options, progress);
        if (progress is not null)
        {
            output.WriteLine();
        }

        if (json)
        {
            WriteJson(result, output);
        }
        else
        {
            string cores = string.Join(',', result.WorkerCores);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.Mpps:F2} Mpps  {result.NanosecondsPerPacket:F2} ns/packet  ({result.Packets:N0} packets in {result.Seconds:F3} s, {result.Drops:N0} dropped, workers on cores {cores}; table built in {result.TableBuildSeconds:F2} s)"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"worker CPU: {result.CpuNanosecondsPerPacket:F2} ns/packet = {result.MppsPerCore:F2} Mpps per core; workers had {result.WorkerCpuShare:P0} of their cores (less means other processes shared them)"));
        }

        return result;
    }

    private static void WriteJson(BenchResult result, TextWriter output)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("mpps", Math.Round(result.Mpps, 3));
            writer.WriteNumber("ns_per_packet", Math.Round(result.NanosecondsPerPacket, 3));
            writer.WriteNumber("packets", result.Packets);
            writer.WriteNumber("drops", result.Drops);
            writer.WriteNumber("transmitted", result.Transmitted);
            writer.WriteNumber("seconds", Math.Round(result.Seconds, 6));
            writer.WriteNumber("cpu_ns_per_packet", Math.Round(result.CpuNanosecondsPerPacket, 3));
            writer.WriteNumber("mpps_per_core", Math.Round(result.MppsPerCore, 3));
            writer.WriteNumber("worker_cpu_share", Math.Round(result.WorkerCpuShare, 3));
            writer.WriteNumber("workers", result.Options.Workers);
            writer.WriteNumber("mappings", result.Options.Mappings);
            writer.WriteNumber("flows", result.Options.Flows);
            writer.WriteNumber("size", result.Options.FrameSize);
            writer.WriteNumber("batch", result.Options.BatchSize);
            writer.WriteNumber("table_build_seconds", Math.Round(result.TableBuildSeconds, 3));
            writer.WriteEndObject();
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }

    private static void DrawBar(long done, long total, TextWriter output)
    {
        int filled = (int)Math.Min(BarWidth, done * BarWidth / Math.Max(1, total));
        output.Write(string.Create(CultureInfo.InvariantCulture,
            $"\r[{new string('#', filled)}{new string(' ', BarWidth - filled)}] {done * 100 / Math.Max(1, total),3}%"));
        output.Flush();
    }
}
