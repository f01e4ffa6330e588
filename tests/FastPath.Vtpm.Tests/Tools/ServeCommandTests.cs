using System.Diagnostics;
using System.Net.Sockets;
using FastPath.Testing;
using FastPath.Vtpm.State;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Tools;

/// <summary>The `fastpath vtpm serve` process itself: its options and how it ends.</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public void Serve_runs_the_pair_by_default_and_rejects_a_port_without_room_for_the_control_channel()
    {
        using var state = new TempDirectory();
        ProcessResult result = ProcessRunner.Run(TpmServerProcess.FastpathExecutable, "vtpm", "serve", "--port", "65535", "--state", state.Path);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("control channel uses port + 1", result.StandardError);

        using var pair = new PairProcess(state.Path);
        Assert.Equal(0u, RawTpmClient.Code(RawTpmClient.Once(pair.Port, TpmCommand.StartupClear())));
        Assert.NotNull(new StateStore(Path.Combine(state.Path, "a")).Load());
        Assert.NotNull(new StateStore(Path.Combine(state.Path, "b")).Load());
        Assert.True(File.Exists(Path.Combine(state.Path, "a", StateStore.Slot0FileName)));
    }

    [Fact]
    public void Control_channel_shutdown_ends_the_serve_command_with_exit_code_0_when_tcp_state_commands_are_allowed()
    {
        // What the retired managed engine left behind: its state blobs begin with "FPTP" (big-endian), written
        // through the same crash-safe slots.
        using var state = new TempDirectory();
        int port = FreePorts.Pair();
        new StateStore(state.Path).Save([(byte)'F', (byte)'P', (byte)'T', (byte)'P', 0, 0, 0, 1, .. new byte[64]]);

        string[] slots = [.. Directory.GetFiles(state.Path, "tpm2-state.*").Order()];
        byte[][] before = [.. slots.Select(File.ReadAllBytes)];
        ProcessResult refused = ProcessRunner.Run(TpmServerProcess.FastpathExecutable, ["vtpm", "serve", "--port", port.ToString(), "--state", state.Path, "--single"], TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, refused.ExitCode);
        string[] lines = refused.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(Path.Combine(state.Path, "tpm2-state."), lines[0], StringComparison.Ordinal);
        Assert.Contains("managed engine", lines[0], StringComparison.Ordinal);
        Assert.Equal(before, slots.Select(File.ReadAllBytes));
    }
}
