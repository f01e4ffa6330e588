using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Parsing;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// <c>fastpath gen</c>: sends UDP frames over F flows on an interface through a send-only <see cref="AfPacketPort"/>,
/// paced to a rate or as fast as the kernel takes them, and bounded by a count. Frames are built once; each
/// packet only gets its flow's source address and port stamped in with incremental checksums.
/// </summary>
/// <remarks>Thread-safe: every run owns its port and buffers.</remarks>
public static unsafe class TrafficGenerator
{
    /// <summary>Frames per TX kick: enough to amortise the send(2), few enough to keep the pacing smooth.</summary>
    private const int Burst = 64;

    private static readonly byte[] s_broadcast = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];

    /// <summary>Runs to completion; throws <see cref="ArgumentException"/> for bad options, an I/O exception when the interface fails.</summary>
    public static TrafficGeneratorResult Run(TrafficGeneratorOptions options, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int frameLength = options.FrameLength;

        using var port = new AfPacketPort("gen", options.InterfaceName, new AfPacketOptions { Receive = false });
        CheckMtu(options);

        int stride = (frameLength + 63) & ~63;
        byte* buffer = (byte*)NativeMemory.AlignedAlloc((nuint)(Burst * stride), 64);
        try
        {
            return Send(port, options, buffer, stride, cancellation);
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    private static TrafficGeneratorResult Send(AfPacketPort port, TrafficGeneratorOptions options, byte* buffer, int stride, CancellationToken cancellation)
    {
        int frameLength = options.FrameLength;
        byte[] sourceMac = options.SourceMac ?? port.Mac.ToArray();
        byte[] destinationMac = options.DestinationMac ?? s_broadcast;
        byte[] firstSource = options.Source.GetAddressBytes();
        byte[] destination = options.Destination.GetAddressBytes();
        byte[] source = (byte[])firstSource.Clone();
        var views = new FrameView[Burst];
        for (int i = 0; i < Burst; i++)
        {
            var frame = new Span<byte>(buffer + (i * stride), frameLength);
            UdpFrameBuilder.Write(frame, sourceMac, destinationMac, (ushort)options.Vlan, firstSource, destination, TrafficGeneratorOptions.FirstSourcePort, options.DestinationPort, options.PayloadLength);
            views[i] = new FrameView(buffer + (i * stride), frameLength);
        }

        int flow = 0;
        ushort sourcePort = TrafficGeneratorOptions.FirstSourcePort;
        long sent = 0;
        long ticksPerSecond = Stopwatch.Frequency;
        long start = Stopwatch.GetTimestamp();
        long lastProgress = start;
        while (sent < options.Count)
        {
            cancellation.ThrowIfCancellationRequested();
            int burst = (int)Math.Min(Burst, options.Count - sent);
            if (options.Rate > 0)
            {
                long now = Stopwatch.GetTimestamp();
                long due = (long)((double)(now - start) * options.Rate / ticksPerSecond) + 1 - sent;
                if (due <= 0)
                {
                    Wait((sent - ((double)(now - start) * options.Rate / ticksPerSecond)) / options.Rate);
                    continue;
                }

                burst = (int)Math.Min(burst, due);
            }

            for (int i = 0; i < burst; i++)
            {
                UdpFrameBuilder.RewriteSource(new Span<byte>(buffer + (i * stride), frameLength), source, sourcePort);
                if (++flow == options.Flows)
                {
                    flow = 0;
                    sourcePort = TrafficGeneratorOptions.FirstSourcePort;
                    firstSource.CopyTo(source, 0);
                }
                else if (++sourcePort == 0)
                {
                    sourcePort = TrafficGeneratorOptions.FirstSourcePort;
                    Increment(source);
                }
            }

            int done = 0;
            while (done < burst)
            {
                int accepted = port.Transmit(views.AsSpan(done, burst - done), default);
                done += accepted;
                if (accepted > 0)
                {
                    lastProgress = Stopwatch.GetTimestamp();
                }
                else if (Stopwatch.GetElapsedTime(lastProgress) > options.StallTimeout)
                {
                    int errno = port.Counters.TxLastErrno;
                    string why = errno == 0 ? "the kernel kept pushing back" : "last error " + Interop.Errno.Name(errno);
                    throw new IOException($"interface {options.InterfaceName} took no frame for {options.StallTimeout.TotalSeconds:0.#} s after {sent + done} ({why})");
                }
                else
                {
                    Thread.Yield();
                }
            }

            sent += burst;
        }

        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        return new TrafficGeneratorResult(port.Counters.TxPackets, elapsed, options.FrameSize, port.Counters.TxErrors);
    }

    /// <summary>Sleeps for long waits, yields for short ones: the pacing error stays under a millisecond without a spinning core.</summary>
    private static void Wait(double seconds)
    {
        if (seconds > 0.002)
        {
            Thread.Sleep(1);
        }
        else
        {
            Thread.Yield();
        }
    }

    /// <summary>The next address: adds one to the big-endian bytes, carrying left.</summary>
    private static void Increment(byte[] address)
    {
        int i = address.Length - 1;
        while (i >= 0 && ++address[i] == 0)
        {
            i--;
        }
    }

    private static void CheckMtu(TrafficGeneratorOptions options)
    {
        string path = $"/sys/class/net/{options.InterfaceName}/mtu";
        if (!File.Exists(path))
        {
            return;
        }

        int mtu = int.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture);
        int ipLength = options.FrameLength - UdpFrameBuilder.EthernetHeaderLength - (options.Vlan != 0 ? UdpFrameBuilder.VlanTagLength : 0);
        if (ipLength > mtu)
        {
            throw new ArgumentException($"--size {options.FrameSize}: the {ipLength}-byte IP packet exceeds {options.InterfaceName}'s MTU of {mtu}");
        }
    }
}
