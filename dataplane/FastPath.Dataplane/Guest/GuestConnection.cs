using System.Runtime.InteropServices;
using FastPath.Dataplane.Memory;
using Microsoft.Win32.SafeHandles;

namespace FastPath.Dataplane.Guest;

/// <summary>
/// One connected guest: its socket, its channel, and its own frames (<see cref="Frames"/>: a header slab the guest is
/// never sent and a payload slab that is its memory alone), plus the two flags by which the listener thread and the
/// worker hand it over. Every connection gets fresh memfds, so a guest that comes after another sees none of its data.
/// </summary>
/// <remarks>
/// Concurrency: the listener thread creates it, sets <see cref="HungUp"/> when the socket reports POLLHUP/POLLERR
/// or EOF, and disposes it only after the worker has set <see cref="Retired"/> (the worker then no longer touches the
/// rings, the frames or <see cref="Owned"/>). Between adoption and retirement the frames and the ownership bytes are
/// the worker's alone.
/// </remarks>
internal sealed unsafe class GuestConnection : IDisposable
{
    private volatile bool _hungUp;
    private volatile bool _retired;

    internal GuestConnection(SafeFileHandle socket, GuestChannel channel, FramePool frames)
    {
        Socket = socket;
        Channel = channel;
        Frames = frames;
        Owned = (byte*)NativeMemory.AllocZeroed(frames.FrameCount);
    }

    internal SafeFileHandle Socket { get; }

    internal GuestChannel Channel { get; }

    /// <summary>The guest's frames: as many as its quota, each a private header slot and a payload slot it maps.</summary>
    internal FramePool Frames { get; }

    /// <summary>One byte per frame of <see cref="Frames"/>: 1 while the guest holds it (posted on RX or fill, not yet sent or freed).</summary>
    internal byte* Owned { get; }

    /// <summary>Frames marked in <see cref="Owned"/>; worker thread only.</summary>
    internal int Held { get; set; }

    internal bool HungUp => _hungUp;

    internal bool Retired => _retired;

    internal void HangUp() => _hungUp = true;

    internal void Retire() => _retired = true;

    public void Dispose()
    {
        // The data plane's mappings of the guest's memory go with it; the guest keeps only what it mapped itself.
        Channel.Dispose();
        Frames.Dispose();
        NativeMemory.Free(Owned);
        Socket.Dispose();
    }
}
