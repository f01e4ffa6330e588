using FastPath.Testing;

namespace FastPath.Cli.Tests.Packaging;

/// <summary>
/// <c>packaging/fastpath.service</c>: <c>systemd-analyze verify</c> accepts it without a single warning (unknown keys
/// and bad values are only warnings there, so stderr must be empty), and it keeps the hardening the README promises.
/// </summary>
public sealed class ServiceUnitTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static string Unit => File.ReadAllText(Path.Combine(FastpathProcess.RepositoryRoot, "packaging", "fastpath.service"));

    [Fact]
    public void Systemd_analyze_verify_accepts_the_unit_without_warnings()
    {
        // verify also checks that ExecStart's binary exists: point it at the fastpath the build made.
        string unit = _dir.File("fastpath.service");
        File.WriteAllText(unit, Unit.Replace("/usr/bin/fastpath", FastpathProcess.Executable, StringComparison.Ordinal));

        ProcessResult result = ProcessRunner.Run("systemd-analyze", "verify", unit);

        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Equal(string.Empty, result.StandardError.Trim());
    }

    [Fact]
    public void The_verifier_rejects_what_the_unit_must_not_contain()
    {
        // The oracle itself: a misspelt key and an unparsable value both show up on stderr.
        string unit = _dir.File("broken.service");
        File.WriteAllText(unit, Unit.Replace("/usr/bin/fastpath", FastpathProcess.Executable, StringComparison.Ordinal)
            .Replace("NoNewPrivileges=yes", "NoNewPrivileges=perhaps\nProtectSystm=strict", StringComparison.Ordinal));

        ProcessResult result = ProcessRunner.Run("systemd-analyze", "verify", unit);

        Assert.Contains("Failed to parse boolean value", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("Unknown key 'ProtectSystm'", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void The_unit_is_a_hardened_notify_service_with_only_the_data_planes_capabilities()
    {
        Dictionary<string, string> service = Section(Unit, "Service");

        Assert.Equal("notify", service["Type"]);
        Assert.Equal("main", service["NotifyAccess"]);
        Assert.True(int.Parse(service["WatchdogSec"], System.Globalization.CultureInfo.InvariantCulture) > 0);
        string[] capabilities = ["CAP_IPC_LOCK", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_NICE"];
        Assert.Equal(capabilities, service["CapabilityBoundingSet"].Split(' ').Order());
        Assert.Equal(capabilities, service["AmbientCapabilities"].Split(' ').Order());
        Assert.Equal("strict", service["ProtectSystem"]);
        Assert.Equal("yes", service["NoNewPrivileges"]);
        Assert.Equal(["/run/fastpath", "/var/lib/fastpath"], service["ReadWritePaths"].Split(' ').Order());
        Assert.Equal("/usr/bin/fastpath run --config /etc/fastpath/fastpath.json --check", service["ExecStartPre"]);
        Assert.Equal("2", service["RestartPreventExitStatus"]);
    }

    private static Dictionary<string, string> Section(string unit, string name)
    {
        var values = new Dictionary<string, string>();
        string? section = null;
        foreach (string raw in unit.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (line[0] == '[')
            {
                section = line[1..^1];
                continue;
            }

            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (section == name && equals > 0)
            {
                Assert.False(values.ContainsKey(line[..equals]), $"{line[..equals]} set twice");
                values[line[..equals]] = line[(equals + 1)..];
            }
        }

        return values;
    }
}
