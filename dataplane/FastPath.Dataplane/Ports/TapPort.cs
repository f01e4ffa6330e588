using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Parsing;
using FastPath.Dataplane.Ports.Segmentation;
using static FastPath.Dataplane.Interop.LinuxConstants;

namespace FastPath.Dataplane.Ports;

/// <summary>
/// A port on a TAP device (<c>/dev/net/tun</c>, IFF_TAP | IFF_NO_PI): what the port sends, the kernel receives on
/// the TAP interface, and what the kernel sends out of that interface, the port receives. The device is created
/// (or attached to, if it exists and is persistent) by name and brought up; addresses, routes and moving it into
/// a namespace are left to the caller (the file descriptor keeps working across a namespace move).
/// </summary>
/// <remarks>
/// Concurrency: one owner thread calls <see cref="Receive"/> and <see cref="Transmit"/>; <see cref="Counters"/>
/// may be read from any thread. A TAP device has no batch syscall, so each frame is one non-blocking read or write.
/// </remarks>
public sealed unsafe class TapPort : PacketPort
{
    /// <summary>The longest frame the port takes (a TAP's MTU is at most 9000 here, so this is room to spare): a frame
    /// longer than the worker's buffer is read on into the port's own large buffer and handed out from there.</summary>
    private const int LargeSize = 1 << 16;

    /// <summary>Room in front of a frame in the large buffer, as the worker leaves in front of its own (a VLAN push).</summary>
    private const int LargeHeadroom = 64;

    private readonly Lock _closeLock = new();
    private readonly int? _mtu;
    private readonly SoftwareOffload _offload = new();
    private int _deviceMtu;
    private long* _drops;
    private int _fd = -1;
    private byte* _large;

    /// <summary>
    /// Creates or attaches to TAP device <paramref name="interfaceName"/> and brings it up. The port's peer MAC
    /// starts as the TAP interface's own address (the kernel side receives what the port sends) and the port's
    /// MAC as that address with its last bit flipped; <see cref="PacketPort.SetMacs"/> sets the configured ones.
    /// </summary>
    /// <exception cref="ErrnoException">A call failed; the message names it and the interface.</exception>
    /// <param name="name">The port's name.</param>
    /// <param name="interfaceName">The TAP device.</param>
    /// <param name="mtu">An MTU to set on the device (<see cref="AfPacketOptions.MinMtu"/>–<see cref="AfPacketOptions.MaxMtu"/>), or null to leave the kernel's.</param>
    public TapPort(string name, string interfaceName, int? mtu = null)
        : base(name)
    {
        if (mtu is < AfPacketOptions.MinMtu or > AfPacketOptions.MaxMtu)
        {
            throw new ArgumentOutOfRangeException(nameof(mtu), mtu, $"an MTU is between {AfPacketOptions.MinMtu} and {AfPacketOptions.MaxMtu}");
        }

        _mtu = mtu;
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        if (interfaceName.Length >= IfReq.NameSize)
        {
            throw new ArgumentException($"interface name '{interfaceName}' is longer than {IfReq.NameSize - 1} characters", nameof(interfaceName));
        }

        InterfaceName = interfaceName;
        try
        {
            Open();
        }
        catch (Exception)
        {
            Release();
            throw;
        }
    }

    ~TapPort() => Dispose(disposing: false);

    /// <summary>The TAP interface's name.</summary>
    public string InterfaceName { get; private set; }

    /// <inheritdoc />
    /// <remarks>The TAP file: readable while the kernel has a frame queued for it.</remarks>
    internal override int ReadinessHandle => _fd;

    /// <inheritdoc />
    /// <remarks>A frame longer than its buffer (a jumbo frame at MTU 9000 against the worker's 2 KiB buffers) is read on
    /// into the port's own large buffer and handed out from there, valid until the next call as an AF_PACKET ring frame
    /// is, so it ends the batch. A frame that does not fit even there is dropped and counted in
    /// <see cref="PortCounters.RxTooBig"/> and as <see cref="DropReason.TooBig"/>.</remarks>
    public override int Receive(ReadOnlySpan<RxBuffer> buffers, Span<FrameView> frames)
    {
        if (frames.Length < buffers.Length)
        {
            PortThrowHelper.ThrowFramesShorterThanBuffers();
        }

        ref RxBuffer buffer0 = ref MemoryMarshal.GetReference(buffers);
        ref FrameView received0 = ref MemoryMarshal.GetReference(frames);
        Libc.IoVec* vectors = stackalloc Libc.IoVec[2];
        byte* large = _large + LargeHeadroom;
        int count = 0;
        long bytes = 0;
        int tooBig = 0;
        while (count < buffers.Length)
        {
            RxBuffer target = Unsafe.Add(ref buffer0, count);
            int capacity = Math.Min(target.Capacity, LargeSize / 2);

            // The frame's first part goes to the worker's buffer, the rest (if any) to the large buffer right where
            // that first part would continue, so a long frame is made whole by copying only the first part.
            vectors[0].Base = target.Data;
            vectors[0].Length = (nuint)capacity;
            vectors[1].Base = large + capacity;
            vectors[1].Length = (nuint)(LargeSize - capacity);
            nint read = Libc.Readv(_fd, vectors, 2);
            if (read <= 0)
            {
                // EAGAIN: nothing queued. EINTR and anything else: stop this batch; the next call retries.
                break;
            }

            if (read <= capacity)
            {
                Unsafe.Add(ref received0, count) = new FrameView(target.Data, (int)read);
                bytes += read;
                count++;
                continue;
            }

            if (read >= LargeSize)
            {
                tooBig++; // it may have been cut short: never forwarded
                continue;
            }

            Buffer.MemoryCopy(target.Data, large, capacity, capacity);
            Unsafe.Add(ref received0, count) = new FrameView(large, (int)read);
            bytes += read;
            count++;
            break;
        }

        Counters._rxPackets += count;
        Counters._rxBytes += bytes;
        if (tooBig != 0)
        {
            // Named as a drop reason too, like every other frame a port cannot carry (stats, metrics).
            Counters._rxTooBig += tooBig;
            if (_drops != null)
            {
                _drops[(int)DropReason.TooBig] += tooBig;
            }
        }

        return count;
    }

    /// <inheritdoc />
    /// <remarks>
    /// A TAP without vnet headers takes neither GSO nor partial checksums, so the port does that work
    /// (<see cref="SoftwareOffload"/>): a super-frame, or a TCP frame longer than the device's MTU, is written as
    /// segments that fit, and a partial checksum is completed. Returns how many frames from the front were consumed:
    /// written to the device, or refused — longer than the MTU and not segmentable (<see cref="DropReason.TooBig"/>,
    /// <see cref="PortCounters.TxTooBig"/>), shorter than an Ethernet header or rejected by the kernel (counted in
    /// <see cref="PortCounters.TxInvalid"/>). It stops when the kernel has no room (EAGAIN).
    /// </remarks>
    public override int Transmit(ReadOnlySpan<FrameView> frames, ReadOnlySpan<PacketMeta> meta)
    {
        bool withMeta = meta.Length >= frames.Length;
        ref FrameView frame0 = ref MemoryMarshal.GetReference(frames);
        ref PacketMeta meta0 = ref MemoryMarshal.GetReference(meta);
        int done = 0;
        int sent = 0;
        long bytes = 0;
        int invalid = 0;
        int tooBig = 0;
        for (; done < frames.Length; done++)
        {
            FrameView frame = Unsafe.Add(ref frame0, done);
            if (frame.Length < EthHeaderLength)
            {
                invalid++;
                continue;
            }

            int count = _offload.Prepare(frame, withMeta ? (PacketMeta*)Unsafe.AsPointer(ref Unsafe.Add(ref meta0, done)) : null, _deviceMtu, out DropReason refusal);
            if (count == 0)
            {
                tooBig += refusal == DropReason.TooBig ? 1 : 0;
                invalid += refusal == DropReason.TooBig ? 0 : 1;
                continue;
            }

            ReadOnlySpan<FrameView> pieces = _offload.Frames(count);
            int written = 0;
            bool full = false;
            for (; written < pieces.Length; written++)
            {
                FrameView piece = pieces[written];
                if (Libc.Write(_fd, piece.Data, (nuint)piece.Length) < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == EAgain || errno == ENoBufs)
                    {
                        full = true;
                        break;
                    }

                    invalid++;
                    Counters._txLastErrno = errno;
                    continue;
                }

                sent++;
                bytes += piece.Length;
            }

            // A frame whose first piece found no room stays the caller's; once part of it is out, it is consumed.
            if (full && written == 0)
            {
                break;
            }
        }

        Counters._txPackets += sent;
        Counters._txBytes += bytes;
        Counters._txInvalid += invalid;
        if (tooBig != 0)
        {
            Counters._txTooBig += tooBig;
            if (_drops != null)
            {
                _drops[(int)DropReason.TooBig] += tooBig;
            }
        }

        return done;
    }

    /// <inheritdoc />
    internal override void AttachDropCounters(long* drops) => _drops = drops;

    /// <summary>The device's MTU, read when the port opened (after setting it, if asked to).</summary>
    public int Mtu => _deviceMtu;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        lock (_closeLock)
        {
            Release();
        }

        if (disposing)
        {
            _offload.Dispose();
        }

        base.Dispose(disposing);
    }

    private string Where => $"interface {InterfaceName}";

    private void Open()
    {
        _fd = Libc.Open("/dev/net/tun", ORdWr | ONonBlock | OCloexec, 0);
        if (_fd < 0)
        {
            Errno.Throw("open(/dev/net/tun)", Where);
        }

        var request = default(IfReq);
        request.SetName(InterfaceName);
        request.Flags = IffTap | IffNoPi;
        if (Libc.Ioctl(_fd, TunSetIff, &request) < 0)
        {
            Errno.Throw("ioctl(TUNSETIFF)", Where);
        }

        InterfaceName = request.GetName();
        var hardware = default(IfReq);
        hardware.SetName(InterfaceName);
        if (Libc.Ioctl(_fd, SiocGIfHwAddr, &hardware) < 0)
        {
            Errno.Throw("ioctl(SIOCGIFHWADDR)", Where);
        }

        var peer = new ReadOnlySpan<byte>(hardware.HardwareAddress, 6);
        Span<byte> own = stackalloc byte[6];
        peer.CopyTo(own);
        own[5] ^= 0x01;
        SetMacs(own, peer);
        BringUp();
        _large = (byte*)NativeMemory.Alloc(LargeHeadroom + LargeSize);
    }

    /// <summary>SIOCSIFFLAGS and SIOCSIFMTU need a socket of any family; the TAP file descriptor does not take them.</summary>
    private void BringUp()
    {
        int control = Libc.Socket(AfInet, SockDgram | SockCloexec, 0);
        if (control < 0)
        {
            Errno.Throw("socket(AF_INET)", Where);
        }

        try
        {
            var flags = default(IfReq);
            flags.SetName(InterfaceName);
            if (Libc.Ioctl(control, SiocGIfFlags, &flags) < 0)
            {
                Errno.Throw("ioctl(SIOCGIFFLAGS)", Where);
            }

            if (_mtu is int mtu)
            {
                var size = default(IfReq);
                size.SetName(InterfaceName);
                size.Mtu = mtu;
                if (Libc.Ioctl(control, SiocSIfMtu, &size) < 0)
                {
                    Errno.Throw($"ioctl(SIOCSIFMTU {mtu})", Where);
                }
            }

            var current = default(IfReq);
            current.SetName(InterfaceName);
            if (Libc.Ioctl(control, SiocGIfMtu, &current) < 0)
            {
                Errno.Throw("ioctl(SIOCGIFMTU)", Where);
            }

            _deviceMtu = current.Mtu;
            flags.Flags |= IffUp;
            if (Libc.Ioctl(control, SiocSIfFlags, &flags) < 0)
            {
                Errno.Throw("ioctl(SIOCSIFFLAGS up)", Where);
            }
        }
        finally
        {
            Libc.Close(control);
        }
    }

    private void Release()
    {
        if (_fd >= 0)
        {
            Libc.Close(_fd);
            _fd = -1;
        }

        if (_large != null)
        {
            NativeMemory.Free(_large);
            _large = null;
        }
    }
}
