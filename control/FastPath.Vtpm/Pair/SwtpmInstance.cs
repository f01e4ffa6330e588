using System.Diagnostics;
using System.Security.Cryptography;
using FastPath.Vtpm.Protocol;

namespace FastPath.Vtpm.Pair;

/// <summary>A real swtpm (libtpms) as an instance of the pair: <c>swtpm socket --tpm2 --server type=unixio,...
/// --ctrl type=unixio,... --tpmstate dir=DIR --flags not-need-init</c>; raw TPM commands on the command socket,
/// everything else on the control socket. It cannot replay supplied entropy, so the pair runs RANDOM commands on
/// the master only and copies the master's state into it.</summary>
/// <remarks>Thread-safe as <see cref="PairInstance"/>; swtpm serves one command connection at a time, so the pool
/// holds a single connection and concurrent commands queue for it.</remarks>
public sealed class SwtpmInstance : PairInstance
{
    /// <summary>Where the Debian package installs it; <see cref="Locate"/> also searches PATH.</summary>
    public const string DefaultPath = "/usr/bin/swtpm";

    private readonly string _executable;

    public SwtpmInstance(string name, string stateDirectory, string executable, TimeSpan timeout)
        : base(name, stateDirectory, timeout, maxLinks: 1)
    {
        _executable = executable;
    }

    public override string Kind => "swtpm";

    public override bool CanReplayEntropy => false;

    private string PidFile => Path.Combine(StateDirectory, "swtpm.pid");

    /// <summary>The swtpm binary on PATH, or null when swtpm is not installed.</summary>
    public static string? Locate()
    {
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(directory, "swtpm");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return File.Exists(DefaultPath) ? DefaultPath : null;
    }

    /// <summary>swtpm locks its state directory, and nothing ends it when a controller is killed with -9: a swtpm
    /// still running on this directory (its PID file names it and its command line names the directory) is an
    /// orphan of an earlier controller, killed here so the new instance can take the lock.</summary>
    protected override void BeforeStart()
    {
        if (!File.Exists(PidFile) || !int.TryParse(File.ReadAllText(PidFile).Trim(), out int pid))
        {
            return;
        }

        string cmdline;
        try
        {
            cmdline = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return;
        }

        if (cmdline.Contains("swtpm", StringComparison.Ordinal) && cmdline.Contains($"dir={StateDirectory}", StringComparison.Ordinal))
        {
            using Process orphan = Process.GetProcessById(pid);
            orphan.Kill();
            orphan.WaitForExit(5000);
        }
    }

    /// <summary>not-need-init: the TPM runs from the start (CMD_INIT implied), so GET_STATEBLOB works on a fresh
    /// instance and a client's TPM2_Startup reaches it as on a single swtpm; no startup-clear, which would send
    /// TPM2_Startup itself and make the client's answer differ from a single swtpm's.</summary>
    protected override ProcessStartInfo StartInfo(string commandPath, string controlPath)
    {
        var start = new ProcessStartInfo(_executable) { UseShellExecute = false, RedirectStandardOutput = false };
        foreach (string argument in (string[])["socket", "--tpm2",
            "--server", $"type=unixio,path={commandPath}",
            "--ctrl", $"type=unixio,path={controlPath}",
            "--tpmstate", $"dir={StateDirectory}",
            "--pid", $"file={PidFile}",
            "--flags", "not-need-init"])
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    protected override bool IsReady(Process process)
    {
        using SwtpmControlClient control = OpenControl();
        return control.GetConfig() == 0 && File.Exists(CommandPath);
    }

    private protected override void Write(InstanceConnection link, byte flags, ReadOnlySpan<byte> entropy, ReadOnlySpan<byte> command)
    {
        if (!entropy.IsEmpty)
        {
            throw new InvalidOperationException("swtpm cannot replay supplied entropy");
        }

        link.SendRaw(command);
    }

    private protected override void Read(InstanceConnection link) => link.ReceiveTpmResponse();

    internal override bool TryParse(InstanceConnection link, out ExecuteAnswer answer)
    {
        answer = ExecuteAnswer.FromResponse(link.Payload);
        return true;
    }

    /// <summary>SHA-256 of the permanent state blob (NV indices, seeds, hierarchy and dictionary-attack state).
    /// Checked on this machine with swtpm 0.7.1: two instances with equal state give byte-equal permanent blobs,
    /// stable over time. The volatile blob is not comparable: it carries the TPM clock and the DRBG, which CMD_INIT
    /// reseeds, so it differs between equal replicas; volatile state (PCRs, sessions) is checked by comparing
    /// responses instead. The permanent blob also holds the orderly clock, which libtpms writes back only every
    /// now and then (TPM time): a write-back on one replica between two checks reads as a divergence and costs one
    /// (correct) resync.</summary>
    public override bool DigestCoversAllState => false;

    internal override byte[] Digest()
    {
        using SwtpmControlClient control = OpenControl();
        (uint result, _, byte[] blob) = control.GetStateBlob(ControlCommand.BlobPermanent);
        return result == ControlCommand.ResultSuccess ? SHA256.HashData(blob) : throw new InvalidDataException($"GET_STATEBLOB permanent answered 0x{result:x}");
    }

    /// <summary>swtpm writes the permanent state file before it answers the command that changed it.</summary>
    internal override bool Flush() => true;

    internal override byte[] Entropy() => throw new InvalidOperationException("swtpm cannot hand out entropy for replay");
}
