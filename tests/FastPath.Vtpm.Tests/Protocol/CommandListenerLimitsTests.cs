using System.Net.Sockets;
using FastPath.Testing;
using FastPath.Vtpm.Protocol;
using FastPath.Vtpm.State;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Protocol;

/// <summary>Idle and hoarding clients cannot lock the command channel: idle connections time out, one peer holds
/// a bounded share, and a newcomer always finds a slot while anyone is idle.</summary>
[Collection(InProcessLibtpms.Name)]
public sealed class CommandListenerLimitsTests : IDisposable
{
    private readonly TempDirectory _state = new();
    private readonly SwtpmServer _server;
    private readonly int _port;

    public CommandListenerLimitsTests()
    {
        // Idle connections last 10 minutes here: only the per-peer limit and the reserved slot can make room.
        _server = new SwtpmServer(new StateStore(_state.Path)) { IdleTimeout = TimeSpan.FromMinutes(10) };
        _port = FreePorts.Pair();
        _server.Start(VtpmEndpoint.Tcp(_port));
        Assert.Equal(0u, RawTpmClient.Code(RawTpmClient.Once(_port, TpmCommand.StartupClear())));
    }

    public void Dispose()
    {
        _server.Dispose();
        _state.Dispose();
    }

    [Fact]
    public void A_connection_that_sends_nothing_is_closed_by_the_server()
    {
        _server.Dispose(); // libtpms holds one TPM per process
        using var state = new TempDirectory();
        using var server = new SwtpmServer(new StateStore(state.Path)) { IdleTimeout = TimeSpan.FromMilliseconds(500) };
        int port = FreePorts.Pair();
        server.Start(VtpmEndpoint.Tcp(port));
        using var idle = new TcpClient("127.0.0.1", port);
        idle.ReceiveTimeout = 30_000;

        // The server ends the connection (EOF or reset); the client never sent a byte.
        try
        {
            Assert.Equal(0, idle.GetStream().Read(new byte[1]));
        }
        catch (IOException error) when (error.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionReset })
        {
        }
    }

    [Fact]
    public void With_every_slot_held_by_idle_connections_tpm2_getrandom_still_works()
    {
        // Twice the whole table, all idle, all from this one peer: before the limits the 129th was closed at once.
        var hoard = new List<TcpClient>();
        try
        {
            for (int i = 0; i < 2 * 128; i++)
            {
                hoard.Add(new TcpClient("127.0.0.1", _port));
            }

            Tpm2Tools.Run(_port, "tpm2_getrandom", "8", "--hex").EnsureSuccess();
            Assert.Equal(0u, RawTpmClient.Code(RawTpmClient.Once(_port, TpmCommand.GetRandom(8))));
        }
        finally
        {
            foreach (TcpClient client in hoard)
            {
                client.Dispose();
            }
        }
    }
}
