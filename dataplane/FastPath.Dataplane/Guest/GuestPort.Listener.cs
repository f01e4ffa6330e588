using FastPath.Dataplane.Interop;
using FastPath.Dataplane.Memory;
using Microsoft.Win32.SafeHandles;

namespace FastPath.Dataplane.Guest;

/// <summary>The listener thread: accepts a guest, sends it the memfds, watches its socket for a hang-up.</summary>
internal sealed unsafe partial class GuestPort
{
    // How long the listener sleeps in poll(2) before it rechecks the stop flag and the worker's retire flag.
    private const int ListenerPollMilliseconds = 50;

    private readonly SafeFileHandle _listener;
    private readonly Thread _listenerThread;
    private GuestConnection? _offered; // written by the listener, read by the worker (Volatile)
    private volatile bool _closing;
    private Exception? _listenerFailure;

    /// <summary>What stopped the listener thread, if anything did (a guest port then accepts no new guest).</summary>
    internal Exception? ListenerFailure => Volatile.Read(ref _listenerFailure);

    private void StopListener()
    {
        _closing = true;
        _listenerThread.Join();
    }

    private void Listen()
    {
        try
        {
            ListenLoop();
        }
        catch (Exception error) when (error is IOException or InvalidOperationException or ArgumentException)
        {
            // First cause wins; the data plane keeps forwarding, only this port stops accepting guests.
            Interlocked.CompareExchange(ref _listenerFailure, error, null);
        }
    }

    private void ListenLoop()
    {
        Libc.PollFd* fds = stackalloc Libc.PollFd[2];
        byte* scratch = stackalloc byte[64];
        while (!_closing)
        {
            GuestConnection? offered = Volatile.Read(ref _offered);
            if (offered is not null && offered.Retired)
            {
                // The worker has released the guest's frames and dropped its rings: the memory can go.
                Volatile.Write(ref _offered, null);
                offered.Dispose();
                offered = null;
            }

            fds[0] = new Libc.PollFd { Fd = (int)_listener.DangerousGetHandle(), Events = LinuxConstants.PollIn };
            int count = 1;
            if (offered is not null && !offered.HungUp)
            {
                fds[1] = new Libc.PollFd { Fd = (int)offered.Socket.DangerousGetHandle(), Events = LinuxConstants.PollIn };
                count = 2;
            }

            int ready = Libc.Poll(fds, (nuint)count, ListenerPollMilliseconds);
            if (ready <= 0)
            {
                continue;
            }

            if (count == 2 && fds[1].Revents != 0)
            {
                // A guest has nothing to say after the handshake: EOF, an error or a hang-up all mean it is gone.
                nint read = (fds[1].Revents & LinuxConstants.PollIn) != 0
                    ? Libc.Recvfrom((int)offered!.Socket.DangerousGetHandle(), scratch, 64, LinuxConstants.MsgDontWait, null, null)
                    : 0;
                if (read <= 0 || (fds[1].Revents & (LinuxConstants.PollHup | LinuxConstants.PollErr)) != 0)
                {
                    offered!.HangUp();
                }
            }

            if ((fds[0].Revents & LinuxConstants.PollIn) != 0)
            {
                Accept(offered);
            }
        }
    }

    private void Accept(GuestConnection? current)
    {
        SafeFileHandle? socket = GuestSocket.Accept(_listener);
        if (socket is null)
        {
            return;
        }

        if (current is not null && current.Retired)
        {
            // The worker let go of the previous guest while this thread slept in poll(2).
            Volatile.Write(ref _offered, null);
            current.Dispose();
            current = null;
        }

        if (current is not null)
        {
            // One guest per port: the newcomer sees EOF instead of a handshake and says so.
            socket.Dispose();
            return;
        }

        // This guest's own memory, new for every connection: whatever an earlier guest left in its frames went with
        // its memfds, and nothing but this guest's payloads will ever be written here.
        var frames = new FramePool((uint)_maxHeld, _payloadSlotSize, $"fastpath-guest-{Name}");
        GuestChannel channel = GuestChannel.Create(frames);
        try
        {
            GuestSocket.SendHandshake(socket, frames.PayloadFile, channel.File);
        }
        catch (IOException)
        {
            // The guest left during the handshake; nothing was shared with the worker yet.
            channel.Dispose();
            frames.Dispose();
            socket.Dispose();
            return;
        }

        Volatile.Write(ref _offered, new GuestConnection(socket, channel, frames));
    }
}
