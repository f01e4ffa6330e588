using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using FastPath.Testing;
using FastPath.Vtpm.Tests.Infrastructure;

namespace FastPath.Vtpm.Tests.Tools;

/// <summary>
/// Who can reach the vTPM: an unprivileged local user (<c>setpriv --reuid=nobody</c>) tries the control commands
/// that stop the TPM and read or replace its state, and the pair's failover, over each transport. The state
/// directory is made world-searchable first, so only the sockets' own permissions stand in the way.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class VtpmAccessTests
{
    // As nobody: for each "unix PATH" or "tcp PORT" argument, connect and send CMD (u32) with a body, print the
    // 4-byte result in hex, or "denied" when the connection itself is refused for permissions.
    private const string Client = """
        import socket, struct, sys
        cmd = int(sys.argv[1]); body = bytes.fromhex(sys.argv[2])
        for kind, where in zip(sys.argv[3::2], sys.argv[4::2]):
            try:
                if kind == "unix":
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(10); s.connect(where)
                else:
                    s = socket.create_connection(("127.0.0.1", int(where)), timeout=10)
            except PermissionError:
                print("denied"); continue
            s.sendall(struct.pack(">I", cmd) + body)
            data = b""
            while len(data) < 4:
                chunk = s.recv(4 - len(data))
                if not chunk: break
                data += chunk
            print(data.hex() if data else "closed")
            s.close()
        """;

    private const uint CmdShutdown = 3;
    private const uint CmdGetStateBlob = 12;
    private const uint CmdSetStateBlob = 13;

    // GET_STATEBLOB: flags, type 1 (permanent), offset. SET_STATEBLOB: flags, type 1, length 4, data.
    private const string GetBody = "000000000000000100000000";
    private const string SetBody = "00000000000000010000000400000000";

    [Fact]
    public void Serve_defaults_to_0600_unix_sockets_that_an_unprivileged_user_cannot_reach()
    {
        using var state = new TempDirectory();
        File.SetUnixFileMode(state.Path, (UnixFileMode)0b111_101_101);
        using Process serve = Start(["vtpm", "serve", "--single", "--state", state.Path]);
        try
        {
            string socket = state.File("vtpm.sock");
            WaitForSocket(serve, socket + ".ctrl");
            Assert.Equal((UnixFileMode)0b110_000_000, File.GetUnixFileMode(socket));
            Assert.Equal((UnixFileMode)0b110_000_000, File.GetUnixFileMode(socket + ".ctrl"));

            // The owner: tpm2-tools through the swtpm TCTI's Unix socket form, and the state blob on PATH.ctrl.
            var tcti = new Dictionary<string, string> { ["TPM2TOOLS_TCTI"] = $"swtpm:path={socket}" };
            ProcessRunner.Run("tpm2_startup", ["-c"], TimeSpan.FromSeconds(60), null, tcti).EnsureSuccess();
            ProcessRunner.Run("tpm2_getrandom", ["8", "--hex"], TimeSpan.FromSeconds(60), null, tcti).EnsureSuccess();
            Assert.Equal(["00000000"], AsUser(false, CmdGetStateBlob, GetBody, ("unix", socket + ".ctrl")));

            // Anyone else: refused at connect, for the command channel and for every control command.
            Assert.Equal(["denied", "denied"], AsUser(true, CmdShutdown, "", ("unix", socket), ("unix", socket + ".ctrl")));
            Assert.Equal(["denied"], AsUser(true, CmdGetStateBlob, GetBody, ("unix", socket + ".ctrl")));
            Assert.Equal(["denied"], AsUser(true, CmdSetStateBlob, SetBody, ("unix", socket + ".ctrl")));
            ProcessResult stranger = ProcessRunner.Run("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "tpm2_getrandom", "8"], TimeSpan.FromSeconds(60), null, tcti);
            Assert.NotEqual(0, stranger.ExitCode);
            Assert.False(serve.HasExited);
        }
        finally
        {
            Stop(serve);
        }
    }

    [Fact]
    public void On_tcp_shutdown_and_the_state_blobs_are_refused_to_anyone_unless_allowed_by_a_flag()
    {
        using var state = new TempDirectory();
        int port = FreePorts.Pair();
        using Process serve = Start(["vtpm", "serve", "--single", "--port", port.ToString(), "--state", state.Path]);
        try
        {
            FreePorts.WaitForListener(port + 1, TimeSpan.FromSeconds(30), () => "vtpm serve --port");
            string tcp = (port + 1).ToString();

            // TPM_DISABLED_CMD (0x08) to an unprivileged user and to root alike: TCP says nothing of who connects.
            foreach (bool nobody in (bool[])[true, false])
            {
                Assert.Equal(["00000008"], AsUser(nobody, CmdGetStateBlob, GetBody, ("tcp", tcp)));
                Assert.Equal(["00000008"], AsUser(nobody, CmdSetStateBlob, SetBody, ("tcp", tcp)));
                Assert.Equal(["00000008"], AsUser(nobody, CmdShutdown, "", ("tcp", tcp)));
            }

            Assert.False(serve.HasExited, "CMD_SHUTDOWN over TCP stopped the vTPM");
            Assert.Equal(0u, RawTpmClient.Code(RawTpmClient.Once(port, TpmCommand.StartupClear())));
            Assert.Equal(0u, RawTpmClient.Code(RawTpmClient.Once(port, TpmCommand.GetRandom(8))));
        }
        finally
        {
            Stop(serve);
        }
    }

    [Fact]
    public void The_pair_status_socket_and_its_channels_are_0600_and_an_unprivileged_user_cannot_fail_it_over()
    {
        using var state = new TempDirectory();
        File.SetUnixFileMode(state.Path, (UnixFileMode)0b111_101_101);
        using Process serve = Start(["vtpm", "serve", "--state", state.Path, "--timeout-ms", "2000"]);
        try
        {
            string status = state.File("status.sock");
            WaitForSocket(serve, status);
            foreach (string path in (string[])[status, state.File("vtpm.sock"), state.File("vtpm.sock.ctrl")])
            {
                Assert.Equal((UnixFileMode)0b110_000_000, File.GetUnixFileMode(path));
            }

            Assert.Equal(["denied", "denied", "denied"], AsUser(true, CmdShutdown, "", ("unix", status), ("unix", state.File("vtpm.sock")), ("unix", state.File("vtpm.sock.ctrl"))));
            ProcessResult failover = ProcessRunner.Run("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", TpmServerProcess.FastpathExecutable, "vtpm", "failover", "--state", state.Path], TimeSpan.FromSeconds(60));
            Assert.Equal(1, failover.ExitCode);

            // The owner still can: status answers with both members live and no failover happened.
            ProcessResult owner = ProcessRunner.Run(TpmServerProcess.FastpathExecutable, ["vtpm", "status", "--state", state.Path, "--json"], TimeSpan.FromSeconds(60)).EnsureSuccess();
            Assert.Contains("\"failovers\":0", owner.StandardOutput, StringComparison.Ordinal);
        }
        finally
        {
            Stop(serve);
        }
    }

    private static List<string> AsUser(bool nobody, uint command, string body, params (string Kind, string Where)[] targets)
    {
        List<string> arguments = nobody ? ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/python3"] : [];
        arguments.AddRange(["-c", Client, command.ToString(), body.Length == 0 ? "" : body]);
        foreach ((string kind, string where) in targets)
        {
            arguments.Add(kind);
            arguments.Add(where);
        }

        ProcessResult result = ProcessRunner.Run(nobody ? "setpriv" : "/usr/bin/python3", arguments, TimeSpan.FromSeconds(60)).EnsureSuccess();
        return [.. result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
    }

    private static Process Start(string[] arguments)
    {
        var start = new ProcessStartInfo(TpmServerProcess.FastpathExecutable) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    private static void WaitForSocket(Process serve, string path)
    {
        for (int i = 0; i < 600; i++)
        {
            Assert.False(serve.HasExited, $"vtpm serve exited with {(serve.HasExited ? serve.ExitCode : 0)} before {path} appeared");
            try
            {
                using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                probe.Connect(new UnixDomainSocketEndPoint(path));
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }

        Assert.Fail($"nothing listens on {path}");
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(30_000);
        }
    }
}
