using FastPath.Testing;
using FastPath.Vtpm.Protocol;
using FastPath.Vtpm.State;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Protocol;

/// <summary>A vTPM whose state lives on a small tmpfs that fills up: it keeps serving reads and random numbers,
/// refuses changes with a TPM error (and undoes them) until space is freed, and loses nothing acknowledged.</summary>
[Collection(InProcessLibtpms.Name)]
public sealed class FullDiskTests : IDisposable
{
    private const uint NvUnavailable = 0x923;
    private const uint NvUninitialized = 0x14A;
    private readonly SmallFileSystem _mount = new("256k");


    public void Dispose() => _mount.Dispose();

    [Fact]
    public void A_full_state_file_system_refuses_changes_serves_reads_and_recovers_without_losing_anything()
    {
        string state = _mount.File("state");
        var acknowledged = new List<uint>();
        uint refused = 0;
        using (var server = new SwtpmServer(new StateStore(state)))
        {
            int port = FreePorts.Pair();
            server.Start(VtpmEndpoint.Tcp(port));
            Assert.Equal(0u, Code(port, TpmCommand.StartupClear()));
            Assert.Equal(0u, Code(port, TpmCommand.NvDefineOwner(0x01500000, 8)));
            Assert.Equal(0u, Code(port, TpmCommand.NvWriteOwner(0x01500000, [1, 2, 3, 4, 5, 6, 7, 8], 0)));
            acknowledged.Add(0x01500000);

            _mount.Fill();

            // NV indexes of 1 KiB each grow the state until a save needs a page the file system does not have.
            for (uint index = 0x01500001; index < 0x01500040 && refused == 0; index++)
            {
                uint code = Code(port, TpmCommand.NvDefineOwner(index, 1024));
                if (code == 0)
                {
                    acknowledged.Add(index);
                }
                else
                {
                    Assert.Equal(NvUnavailable, code);
                    refused = index;
                }
            }

            Assert.NotEqual(0u, refused);

            // Reads and random numbers go on; the refused index does not exist (the change was undone).
            Assert.Equal(0u, Code(port, TpmCommand.GetRandom(16)));
            Assert.Equal(0u, Code(port, TpmCommand.PcrReadSha256(0)));
            Assert.Equal(0u, Code(port, TpmCommand.NvReadOwner(0x01500000, 8, 0)));
            Assert.False(Exists(port, refused), "the refused NV index exists: the change was not undone");
            Assert.Equal(NvUnavailable, Code(port, TpmCommand.NvDefineOwner(refused, 1024)));
            Assert.Equal(0u, Code(port, TpmCommand.GetRandom(16)));

            // Space freed: the same change now succeeds.
            _mount.Free();
            Assert.Equal(0u, Code(port, TpmCommand.NvDefineOwner(refused, 1024)));
            acknowledged.Add(refused);
        }

        // A restart from disk has every acknowledged index.
        using var again = new SwtpmServer(new StateStore(state));
        int againPort = FreePorts.Pair();
        again.Start(VtpmEndpoint.Tcp(againPort));
        Assert.Equal(0u, Code(againPort, TpmCommand.StartupClear()));
        foreach (uint index in acknowledged)
        {
            Assert.True(Exists(againPort, index), $"acknowledged NV index 0x{index:x8} lost");
        }
    }

    [Fact]
    public void A_vtpm_starts_on_a_full_file_system_and_serves_reads()
    {
        string state = _mount.File("state");
        using (var first = new SwtpmServer(new StateStore(state)))
        {
            // Manufactured while there is space.
        }

        _mount.Fill();
        using var server = new SwtpmServer(new StateStore(state));
        int port = FreePorts.Pair();
        server.Start(VtpmEndpoint.Tcp(port));
        Assert.Equal(0u, Code(port, TpmCommand.StartupClear()));
        Assert.Equal(0u, Code(port, TpmCommand.GetRandom(32)));
    }

    /// <summary>Whether an NV index is defined: reading it succeeds, or fails only because it was never written.</summary>
    private static bool Exists(int port, uint index) => Code(port, TpmCommand.NvReadOwner(index, 8, 0)) is 0 or NvUninitialized;

    private static uint Code(int port, byte[] command) => RawTpmClient.Code(RawTpmClient.Once(port, command));
}
