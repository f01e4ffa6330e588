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
        using var state = new TempDirectory();
        int port = FreePorts.Pair();
        var start = new ProcessStartInfo(TpmServerProcess.FastpathExecutable) { RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in (string[])["vtpm", "serve", "--port", port.ToString(), "--allow-tcp-state-commands", "--state", state.Path, "--single"])
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        try
        {
            FreePorts.WaitForListener(port + 1, TimeSpan.FromSeconds(30), () => "fastpath vtpm serve");
            using (var client = new TcpClient("127.0.0.1", port + 1))
            {
                NetworkStream stream = client.GetStream();
                stream.ReadTimeout = 10_000;
                stream.Write([0, 0, 0, 3]); // CMD_SHUTDOWN
                byte[] reply = new byte[4];
                stream.ReadExactly(reply);
                Assert.Equal(new byte[4], reply);
            }

            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "serve did not exit after CMD_SHUTDOWN");
            Assert.Equal(0, process.ExitCode);
            Assert.True(File.Exists(Path.Combine(state.Path, StateStore.Slot0FileName)));
            Assert.NotNull(new StateStore(state.Path).Load());
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill();
            }
        }
    }

    [Fact]
    public void State_written_by_the_managed_engine_is_refused_in_one_line_naming_its_file_and_left_as_it_was()
    {
        using var state = new TempDirectory();
        int port = FreePorts.Pair();
        var start = new ProcessStartInfo(TpmServerProcess.FastpathExecutable) { RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in (string[])["vtpm", "serve", "--port", port.ToString(), "--state", state.Path, "--single", "--engine", "managed"])
        {
            start.ArgumentList.Add(argument);
        }

        using (Process managed = Process.Start(start)!)
        {
            try
            {
                FreePorts.WaitForListener(port, TimeSpan.FromSeconds(30), () => "fastpath vtpm serve --engine managed");
                Assert.Equal(0u, RawTpmClient.Code(RawTpmClient.Once(port, TpmCommand.StartupClear())));
            }
            finally
            {
                managed.Kill();
                managed.WaitForExit();
            }
        }

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
