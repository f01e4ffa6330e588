using System.Diagnostics;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports;

namespace FastPath.Dataplane.Tests.Ports;

/// <summary>Native receive buffers and helpers that drive a real port in batches, bounded in time.</summary>
internal sealed unsafe class PortHarness : IDisposable
{
    private const int Batch = 32;
    private readonly byte* _memory;
    private readonly RxBuffer[] _buffers = new RxBuffer[Batch];
    private readonly FrameView[] _frames = new FrameView[Batch];

    public PortHarness(int capacity = 2048)
    {
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)(Batch * capacity), 64);
        for (int i = 0; i < Batch; i++)
        {
            _buffers[i] = new RxBuffer(_memory + (i * capacity), capacity);
        }
    }

    /// <summary>
    /// Receives until <paramref name="expected"/> frames that <paramref name="keep"/> accepts have arrived or the
    /// timeout passes; other frames (stray kernel traffic) are left out.
    /// </summary>
    public List<byte[]> ReceiveUntil(PacketPort port, int expected, TimeSpan timeout, Func<byte[], bool> keep)
    {
        var frames = new List<byte[]>();
        var clock = Stopwatch.StartNew();
        while (frames.Count < expected && clock.Elapsed < timeout)
        {
            int count = port.Receive(_buffers, _frames);
            for (int i = 0; i < count; i++)
            {
                byte[] frame = new ReadOnlySpan<byte>(_frames[i].Data, _frames[i].Length).ToArray();
                if (keep(frame))
                {
                    frames.Add(frame);
                }
            }

            if (count == 0)
            {
                Thread.Sleep(1);
            }
        }

        return frames;
    }

    /// <summary>One Receive call: the kept frames of one batch.</summary>
    public List<byte[]> ReceiveOnce(PacketPort port, Func<byte[], bool> keep)
    {
        var frames = new List<byte[]>();
        int count = port.Receive(_buffers, _frames);
        for (int i = 0; i < count; i++)
        {
            byte[] frame = new ReadOnlySpan<byte>(_frames[i].Data, _frames[i].Length).ToArray();
            if (keep(frame))
            {
                frames.Add(frame);
            }
        }

        return frames;
    }

    /// <summary>Receives for <paramref name="duration"/> and returns every kept frame (to prove nothing more arrives).</summary>
    public List<byte[]> ReceiveFor(PacketPort port, TimeSpan duration, Func<byte[], bool> keep) =>
        ReceiveUntil(port, int.MaxValue, duration, keep);

    /// <summary>Transmits every frame, retrying while the port is full, bounded by <paramref name="timeout"/>.</summary>
    public static void TransmitAll(PacketPort port, IReadOnlyList<byte[]> frames, TimeSpan timeout)
    {
        var handles = frames.Select(f => GCHandle.Alloc(f, GCHandleType.Pinned)).ToArray();
        try
        {
            var views = new FrameView[frames.Count];
            for (int i = 0; i < frames.Count; i++)
            {
                views[i] = new FrameView((byte*)handles[i].AddrOfPinnedObject(), frames[i].Length);
            }

            int sent = 0;
            var clock = Stopwatch.StartNew();
            while (sent < views.Length)
            {
                sent += port.Transmit(views.AsSpan(sent, Math.Min(Batch, views.Length - sent)), default);
                if (clock.Elapsed > timeout)
                {
                    throw new TimeoutException($"{port.Name} took {sent} of {views.Length} frames in {timeout}");
                }
            }
        }
        finally
        {
            foreach (GCHandle handle in handles)
            {
                handle.Free();
            }
        }
    }

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Trim());

    public static bool FromMac(byte[] frame, byte[] mac) => frame.Length >= 12 && frame.AsSpan(6, 6).SequenceEqual(mac);

    public void Dispose() => NativeMemory.AlignedFree(_memory);
}
