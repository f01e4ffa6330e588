// An appliance embedding FastPath.Dataplane: its own in-memory ports, a mapping table, the translation pipeline on a
// worker thread, traffic, counters. Usage: Appliance [--packets N] [--out FILE.pcapng]
// Prints one line per counter and "translated N/N" and exits 0 when every mapped frame left translated and the
// unmapped one was dropped as no-mapping; FILE (must not exist) gets what the secure port sent, for tshark.
using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using Appliance;
using FastPath.Dataplane;
using FastPath.Dataplane.Mapping;
using FastPath.Dataplane.Pipeline;
using FastPath.Dataplane.Ports;

int packets = 1000;
string? output = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--packets" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out int n) && n is > 0 and <= 1_000_000:
            packets = n;
            i++;
            break;
        case "--out" when i + 1 < args.Length:
            output = args[++i];
            break;
        default:
            Console.Error.WriteLine("usage: Appliance [--packets 1..1000000] [--out FILE.pcapng]");
            return 2;
    }
}

if (output is not null && File.Exists(output))
{
    Console.Error.WriteLine($"Appliance: {output} exists (not overwritten)");
    return 2;
}

// Tenant 100 (VLAN 100 on the user side): 10.1.0.5 ↔ 198.18.0.5 and 10.1.0.6 ↔ 198.18.0.6.
using var table = new MappingTable();
table.Add(new MappingEntry(MappingKey.User(100, IPAddress.Parse("10.1.0.5")), MappingKey.Secure(IPAddress.Parse("198.18.0.5"))));
table.Add(new MappingEntry(MappingKey.User(100, IPAddress.Parse("10.1.0.6")), MappingKey.Secure(IPAddress.Parse("198.18.0.6"))));

var user = new MemoryPort("u0");
var secure = new MemoryPort("s0");
for (int i = 0; i < packets; i++)
{
    user.Enqueue(Frames.Udp(vlan: 100, source: "10.1.0.5", destination: "10.1.0.6", sourcePort: (ushort)(10_000 + (i % 1000)), destinationPort: 53));
}

user.Enqueue(Frames.Udp(vlan: 100, source: "10.1.0.99", destination: "10.1.0.6", sourcePort: 9, destinationPort: 53)); // unmapped

byte[] userMac = [0x02, 0xfa, 0x57, 0, 0, 0x01];
byte[] secureMac = [0x02, 0xfa, 0x57, 0, 0, 0x02];
byte[] peer = [0x02, 0xfa, 0x57, 0, 0, 0xff];
using RunningPipeline pipeline = new PipelineBuilder(table)
    .WithBatchSize(32)
    .AddPair(
        new PortPlan("u0", (_, _) => user, PerWorker: false, userMac, peer),
        new PortPlan("s0", (_, _) => secure, PerWorker: false, secureMac, peer))
    .Build();
pipeline.Start();

DateTime deadline = DateTime.UtcNow.AddSeconds(30);
while (pipeline.Counters.Total().RxPackets < packets + 1 && DateTime.UtcNow < deadline)
{
    Thread.Sleep(10);
}

if (pipeline.Stop(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5)) is Exception failure)
{
    Console.Error.WriteLine($"Appliance: {failure.Message}");
    return 1;
}

WorkerCounters total = pipeline.Counters.Total();
Console.WriteLine($"worker rx_packets={total.RxPackets} tx_packets={total.TxPackets} no-mapping={Counters.Dropped(total, DropReason.NoMapping)}");
foreach (PortTotals port in pipeline.PortTotals())
{
    Console.WriteLine($"port {port.Name} {port.Side.ToString().ToLowerInvariant()} rx_packets={port.RxPackets} tx_packets={port.TxPackets}");
}

int translated = 0;
CaptureWriter? writer = output is null ? null : CaptureWriter.Create(output, new CaptureFormat(CaptureFileKind.PcapNg, Nanoseconds: true));
long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
foreach (byte[] frame in secure.Sent)
{
    writer?.Write(frame, now);
    // Untagged on the secure side, source and destination translated.
    if (BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(12)) == 0x0800
        && new IPAddress(frame.AsSpan(26, 4)).Equals(IPAddress.Parse("198.18.0.5"))
        && new IPAddress(frame.AsSpan(30, 4)).Equals(IPAddress.Parse("198.18.0.6")))
    {
        translated++;
    }
}

writer?.Dispose();
Console.WriteLine($"translated {translated}/{packets}");
bool ok = translated == packets && secure.Sent.Count == packets && Counters.Dropped(total, DropReason.NoMapping) == 1;
return ok ? 0 : 1;
