using Microsoft.Win32.SafeHandles;

namespace FastPath.Dataplane.Guest;

/// <summary>One connected guest: its socket and its channel, plus the two flags by which the listener thread and the worker hand it over.</summary>
/// <remarks>
/// Concurrency: the listener thread creates it, sets <see cref="HungUp"/> when the socket reports POLLHUP/POLLERR
/// or EOF, and disposes it only after the worker has set <see cref="Retired"/> (the worker has then released every
/// frame the guest held and will not touch the rings again).
/// </remarks>
internal sealed class GuestConnection(SafeFileHandle socket, GuestChannel channel) : IDisposable
{
    private volatile bool _hungUp;
    private volatile bool _retired;

    internal SafeFileHandle Socket { get; } = socket;

    internal GuestChannel Channel { get; } = channel;

    internal bool HungUp => _hungUp;

    internal bool Retired => _retired;

    internal void HangUp() => _hungUp = true;

    internal void Retire() => _retired = true;

    public void Dispose()
    {
        Channel.Dispose();
        Socket.Dispose();
    }
}
