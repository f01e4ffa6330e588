using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using FastPath.Testing;
using FastPath.Vtpm.Engine;
using FastPath.Vtpm.Protocol;
using FastPath.Vtpm.State;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Protocol;

/// <summary>The swtpm socket protocol over real loopback sockets: command framing, the control channel's
/// CMD_* codes, malformed input, and concurrent clients.</summary>
[Collection(InProcessLibtpms.Name)]
public sealed class SwtpmServerTests : IDisposable
{
    private readonly TempDirectory _state = new();
    private readonly SwtpmServer _server;
    private readonly int _port;

    public SwtpmServerTests()
    {
        _server = new SwtpmServer(new StateStore(_state.Path));
        _port = FreePorts.Pair();
        _server.Start(VtpmEndpoint.Tcp(_port, allowStateCommands: true));
    }

    public void Dispose()
    {
        _server.Dispose();
        _state.Dispose();
    }

    [Fact]
    public void Many_commands_on_one_connection_and_one_command_per_connection_both_work()
    {
        Assert.Equal(0u, RawTpmClient.Code(RawTpmClient.Once(_port, TpmCommand.StartupClear())));
        using (var client = new RawTpmClient(_port))
        {
            for (int i = 0; i < 20; i++)
            {
                byte[] response = client.Send(TpmCommand.GetRandom(32));
                Assert.Equal(0u, RawTpmClient.Code(response));
                Assert.Equal(10 + 2 + 32, response.Length);
            }
        }

        // Two commands in one write: two responses, in order.
        using (var client = new RawTpmClient(_port))
        {
            byte[] both = [.. TpmCommand.GetRandom(4), .. TpmCommand.GetRandom(8)];
            Assert.Equal(16, client.Send(both).Length);
            Assert.Equal(20, client.ReadResponse().Length);
        }
    }

    [Fact]
    public void An_impossible_size_field_gets_a_tpm_error_and_the_connection_closes()
    {
        using var client = new TcpClient("127.0.0.1", _port);
        NetworkStream stream = client.GetStream();
        stream.ReadTimeout = 10_000;
        stream.Write([0x80, 0x01, 0x7F, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x01, 0x7B]);
        byte[] response = new byte[10];
        stream.ReadExactly(response);
        Assert.Equal(0x142u, BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6))); // TPM_RC_COMMAND_SIZE
        Assert.Equal(0, stream.Read(new byte[1])); // closed: the stream cannot be re-framed
    }

    [Fact]
    public void A_command_cut_short_by_the_client_gets_a_size_error_not_a_hang()
    {
        using var client = new TcpClient("127.0.0.1", _port);
        NetworkStream stream = client.GetStream();
        stream.ReadTimeout = 10_000;
        stream.Write([0x80, 0x01, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x01, 0x7B, 0x00]);
        client.Client.Shutdown(SocketShutdown.Send);
        byte[] response = new byte[10];
        stream.ReadExactly(response);
        Assert.Equal(0x142u, BinaryPrimitives.ReadUInt32BigEndian(response.AsSpan(6)));
    }

    [Fact]
    public void Control_channel_answers_the_codes_the_tcti_and_swtpm_clients_send()
    {
        Assert.Equal(Be(0, ControlCommand.Capabilities), Control(Be(1)));
        Assert.Equal(Be(0), Control([.. Be(5), 0])); // SET_LOCALITY 0
        Assert.Equal(Be(0x3D), Control([.. Be(5), 9])); // locality 9 does not exist
        Assert.Equal(new byte[8], Control(Be(4))); // GET_TPMESTABLISHED: result + bit + padding
        Assert.Equal(Be(0, 0), Control(Be(15))); // GET_CONFIG
        Assert.Equal(Be(0, 4096, 4096, 4096), Control(Be(17, 0))); // SET_BUFFERSIZE query
        Assert.Equal(Be(0x0A), Control(Be(99, 1, 2))); // unknown code
        Assert.Equal(Be(0), Control(Be(9))); // CANCEL_TPM_CMD
        Assert.Equal(Be(0), Control(Be(10))); // STORE_VOLATILE
    }

    [Fact]
    public void Control_init_powers_the_tpm_off_and_on_so_startup_is_needed_again()
    {
        Assert.Equal(0u, RawTpmClient.Code(RawTpmClient.Once(_port, TpmCommand.StartupClear())));
        Assert.Equal(0u, RawTpmClient.Code(RawTpmClient.Once(_port, TpmCommand.GetRandom(4))));
        Assert.Equal(Be(0), Control(Be(2, 0)));
        Assert.Equal(0x100u, RawTpmClient.Code(RawTpmClient.Once(_port, TpmCommand.GetRandom(4))));
        Assert.Equal(0u, RawTpmClient.Code(RawTpmClient.Once(_port, TpmCommand.StartupClear())));
    }

    [Fact]
    public void State_blobs_move_a_tpm_to_another_server()
    {
        RawTpmClient.Once(_port, TpmCommand.StartupClear());
        RawTpmClient.Once(_port, TpmCommand.NvDefineOwner(0x01500020, 4));
        RawTpmClient.Once(_port, TpmCommand.NvWriteOwner(0x01500020, [4, 3, 2, 1], 0));
        byte[] reply = Control(Be(12, 0, ControlCommand.BlobVolatile, 0));
        uint total = BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(8));
        byte[] blob = reply.AsSpan(16).ToArray();
        Assert.Equal((int)total, blob.Length);
        byte[] permanent = Control(Be(12, 0, ControlCommand.BlobPermanent, 0)).AsSpan(16).ToArray();
        byte[] digest = _server.StateDigest();

        // libtpms holds one TPM per process: this one goes before the other starts.
        _server.Dispose();
        using var otherState = new TempDirectory();
        using var other = new SwtpmServer(new StateStore(otherState.Path));
        int otherPort = FreePorts.Pair();
        other.Start(VtpmEndpoint.Tcp(otherPort, allowStateCommands: true));
        Assert.Equal(Be(0), Control(otherPort + 1, [.. Be(13, 0, ControlCommand.BlobPermanent, (uint)permanent.Length), .. permanent]));
        Assert.Equal(Be(0), Control(otherPort + 1, [.. Be(13, 0, ControlCommand.BlobVolatile, (uint)blob.Length), .. blob]));
        Assert.Equal(Be(0), Control(otherPort + 1, Be(2, 0))); // CMD_INIT resumes the volatile state just set
        Assert.Equal(digest, other.StateDigest());
        byte[] read = RawTpmClient.Once(otherPort, TpmCommand.NvReadOwner(0x01500020, 4, 0));
        Assert.Equal(new byte[] { 4, 3, 2, 1 }, read.AsSpan(16, 4).ToArray());
    }

    [Fact]
    public async Task Concurrent_clients_are_all_served_in_order_without_deadlock()
    {
        RawTpmClient.Once(_port, TpmCommand.StartupClear());
        RawTpmClient.Once(_port, TpmCommand.NvDefineOwner(0x01500021, 8, 0x00020012)); // counter
        byte[] increment = new TpmCommand(0x134).Handle(0x40000001).Handle(0x01500021).Password().Build();
        const int clients = 8;
        const int perClient = 25;
        Task[] tasks = new Task[clients];
        for (int c = 0; c < clients; c++)
        {
            tasks[c] = Task.Run(
                () =>
                {
                    for (int i = 0; i < perClient; i++)
                    {
                        Assert.Equal(0u, RawTpmClient.Code(RawTpmClient.Once(_port, increment)));
                    }
                },
                TestContext.Current.CancellationToken);
        }

        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);
        byte[] read = RawTpmClient.Once(_port, TpmCommand.NvReadOwner(0x01500021, 8, 0));
        Assert.Equal((ulong)(clients * perClient), BinaryPrimitives.ReadUInt64BigEndian(read.AsSpan(16)));

        // Every acknowledged increment is on disk (group commit released no response early).
        _server.Dispose();
        using var reloaded = new EngineHarness(new LibtpmsEngine(new StateStore(_state.Path).Load(), null));
        reloaded.Run(TpmCommand.StartupClear());
        byte[] durable = reloaded.Run(TpmCommand.NvReadOwner(0x01500021, 8, 0));
        Assert.Equal((ulong)(clients * perClient), BinaryPrimitives.ReadUInt64BigEndian(durable.AsSpan(16)));
    }

    private byte[] Control(byte[] request) => Control(_port + 1, request);

    private static byte[] Control(int port, byte[] request)
    {
        using var client = new TcpClient("127.0.0.1", port);
        NetworkStream stream = client.GetStream();
        stream.ReadTimeout = 10_000;
        stream.Write(request);
        client.Client.Shutdown(SocketShutdown.Send);
        using var reply = new MemoryStream();
        stream.CopyTo(reply);
        return reply.ToArray();
    }

    private static byte[] Be(params uint[] values)
    {
        byte[] bytes = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4 * i), values[i]);
        }

        return bytes;
    }
}
