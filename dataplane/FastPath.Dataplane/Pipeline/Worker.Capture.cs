using FastPath.Dataplane.Capture;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports;

namespace FastPath.Dataplane.Pipeline;

/// <summary>Live capture: the batch path taken only while a <see cref="CaptureSession"/> is attached.</summary>
internal sealed unsafe partial class Worker
{
    private CaptureSession? _capture;

    /// <summary>Attaches (or with null detaches) a capture; the worker takes it up at its next batch.</summary>
    public void SetCapture(CaptureSession? capture) => Volatile.Write(ref _capture, capture);

    /// <summary>
    /// Translates the batch like <see cref="TranslationStage.Process"/>, copying the captured port's frames around it:
    /// received frames as they arrived (kept aside until their verdict is known, so a drop carries its reason),
    /// transmitted frames as translated.
    /// </summary>
    private void ProcessCaptured(PortBinding binding, CaptureSession capture, int received)
    {
        CaptureRing ring = capture.Ring(_id);
        CaptureFilter filter = capture.Filter;
        int snap = capture.SnapLength;
        long now = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
        bool rx = (capture.Direction & CaptureDirection.Rx) != 0 && binding.Rx.Name == capture.Port;
        Span<byte> scratch = capture.Scratch(_id);
        // Per frame: 0 = not matched, Copied = matched and kept in the scratch, NoRoom = matched, but the ring had no
        // slot left for it this batch: counted as a capture drop without copying (an overflowing capture then costs a
        // filter evaluation per frame). With --drops every match is copied: which ones are drops is known only later.
        const byte Copied = 1, NoRoom = 2;
        Span<byte> taken = stackalloc byte[received];
        if (rx)
        {
            int room = capture.DropsOnly ? int.MaxValue : ring.Room();
            for (int i = 0; i < received; i++)
            {
                var frame = new ReadOnlySpan<byte>(_frames[i].Data, _frames[i].Length);
                if (!filter.Matches(frame))
                {
                    taken[i] = 0;
                    continue;
                }

                if (room <= 0)
                {
                    taken[i] = NoRoom;
                    continue;
                }

                room--;
                taken[i] = Copied;
                frame[..Math.Min(frame.Length, snap)].CopyTo(scratch.Slice(i * snap, snap));
            }
        }

        binding.Stage.Process(_frames.AsSpan(0, received), _meta.AsSpan(0, received));

        if (rx)
        {
            int noRoom = 0;
            for (int i = 0; i < received; i++)
            {
                DropReason reason = _meta[i].Verdict;
                if (taken[i] == Copied && (reason != DropReason.None || !capture.DropsOnly))
                {
                    int length = _frames[i].Length;
                    ring.TryWrite(now, CaptureDirection.Rx, reason, length, scratch.Slice(i * snap, Math.Min(length, snap)));
                }
                else if (taken[i] == NoRoom)
                {
                    noRoom++;
                }
            }

            if (noRoom > 0)
            {
                ring.CountDrops(noRoom);
            }
        }

        if ((capture.Direction & CaptureDirection.Tx) != 0 && !capture.DropsOnly)
        {
            PacketPort[] egresses = binding.Egresses;
            for (int i = 0; i < received; i++)
            {
                ref PacketMeta meta = ref _meta[i];
                if (meta.Verdict != DropReason.None || (uint)meta.Egress >= (uint)egresses.Length || egresses[meta.Egress].Name != capture.Port)
                {
                    continue;
                }

                var frame = new ReadOnlySpan<byte>(_frames[i].Data, _frames[i].Length);
                if (filter.Matches(frame))
                {
                    ring.TryWrite(now, CaptureDirection.Tx, DropReason.None, frame.Length, frame[..Math.Min(frame.Length, snap)]);
                }
            }
        }

        ring.Publish();
    }
}
